// The ClutchCall conformance testee for the Go SDK (see tests/conformance/PROTOCOL.md).
// It reads length-prefixed requests on stdin and answers each on stdout, using only the
// generated package's by-name registries.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	clutchcall "github.com/clutchcall/clutchcall-go"
	"github.com/clutchcall/clutchcall-go/wire"
)

const (
	statusOK          = 0
	statusDecodeError = 1
	statusUnsupported = 2
	statusFailure     = 3
)

type reply struct {
	status byte
	body   []byte
}

func ok(b []byte) reply            { return reply{statusOK, b} }
func unsupported(msg string) reply { return reply{statusUnsupported, []byte(msg)} }
func failure(err error) reply      { return reply{statusFailure, []byte(err.Error())} }

// decodeErr maps a decode error to status 1 and anything else to status 3.
func decodeErr(err error) reply {
	var de *clutchcall.DecodeError
	if errors.As(err, &de) {
		return reply{statusDecodeError, []byte(de.Reason)}
	}
	return failure(err)
}

// encodeErr maps an encoder refusing a value to status 1 invalid_value.
func encodeErr(err error) reply {
	var ee *clutchcall.EncodeError
	if errors.As(err, &ee) {
		return reply{statusDecodeError, []byte("invalid_value")}
	}
	return decodeErr(err)
}

func structCodec(name string) (wire.StructCodec, map[string]bool, bool) {
	base, query, _ := strings.Cut(name, "?")
	codec, found := wire.Structs[base]
	if !found {
		return codec, nil, false
	}
	args := map[string]bool{}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			args[k] = v == "true"
		}
	}
	return codec, args, true
}

func handle(op byte, name string, payload []byte) (r reply) {
	defer func() {
		if p := recover(); p != nil {
			r = failure(fmt.Errorf("panic: %v", p))
		}
	}()
	switch op {
	case 1, 2, 3:
		m := clutchcall.NewMessage(name)
		if m == nil {
			return unsupported("unknown message " + name)
		}
		if op == 3 {
			if err := m.UnmarshalJSON(payload); err != nil {
				return decodeErr(err)
			}
			out, err := m.MarshalBinary()
			if err != nil {
				return encodeErr(err)
			}
			return ok(out)
		}
		if err := m.UnmarshalBinary(payload); err != nil {
			return decodeErr(err)
		}
		var out []byte
		var err error
		if op == 1 {
			out, err = m.MarshalBinary()
		} else {
			out, err = m.MarshalJSON()
		}
		if err != nil {
			return failure(err)
		}
		return ok(out)
	case 4, 5, 6:
		codec, args, found := structCodec(name)
		if !found {
			return unsupported("unknown struct " + name)
		}
		var v wire.Value
		var err error
		if op == 6 {
			v, err = codec.FromJSON(payload)
		} else {
			v, err = codec.Decode(payload, args)
		}
		if err != nil {
			return decodeErr(err)
		}
		if op == 5 {
			out, err := v.MarshalJSON()
			if err != nil {
				return failure(err)
			}
			return ok(out)
		}
		out, err := codec.Encode(v, args)
		if err != nil {
			return encodeErr(err)
		}
		return ok(out)
	case 7:
		codec, found := wire.Streams[name]
		if !found {
			return unsupported("unknown stream " + name)
		}
		if len(payload) < 4 {
			return failure(errors.New("stream_parse payload without a chunk size"))
		}
		chunk := int(binary.LittleEndian.Uint32(payload))
		data := payload[4:]
		if chunk <= 0 {
			chunk = len(data)
		}
		p := codec.NewParser()
		var items []wire.Value
		for i := 0; i < len(data); i += chunk {
			end := i + chunk
			if end > len(data) {
				end = len(data)
			}
			got, err := p.Feed(data[i:end])
			if err != nil {
				return decodeErr(err)
			}
			items = append(items, got...)
		}
		got, err := p.Close()
		if err != nil {
			return decodeErr(err)
		}
		items = append(items, got...)
		out := []byte{'['}
		for i, it := range items {
			if i > 0 {
				out = append(out, ',')
			}
			js, err := it.MarshalJSON()
			if err != nil {
				return failure(err)
			}
			out = append(out, `{"struct":"`+it.WireName()+`","value":`...)
			out = append(out, js...)
			out = append(out, '}')
		}
		return ok(append(out, ']'))
	case 8:
		v, n, err := wire.DecodeVarint(payload)
		if err != nil {
			return decodeErr(err)
		}
		if n != len(payload) {
			return reply{statusDecodeError, []byte("trailing_bytes")}
		}
		return ok([]byte(strconv.FormatUint(v, 10)))
	case 9:
		v, err := strconv.ParseUint(string(payload), 10, 64)
		if err != nil {
			return reply{statusDecodeError, []byte("invalid_value")}
		}
		out, err := wire.AppendVarint(nil, v)
		if err != nil {
			return encodeErr(err)
		}
		return ok(out)
	}
	return unsupported(fmt.Sprintf("unknown op %d", op))
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(in, hdr[:]); err != nil {
			if err == io.EOF {
				return
			}
			fmt.Fprintln(os.Stderr, "testee: reading a frame length:", err)
			os.Exit(1)
		}
		frame := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(in, frame); err != nil {
			fmt.Fprintln(os.Stderr, "testee: reading a frame:", err)
			os.Exit(1)
		}
		var r reply
		if len(frame) < 3 || int(binary.LittleEndian.Uint16(frame[1:3])) > len(frame)-3 {
			r = failure(errors.New("malformed request frame"))
		} else {
			l := int(binary.LittleEndian.Uint16(frame[1:3]))
			r = handle(frame[0], string(frame[3:3+l]), frame[3+l:])
		}
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(r.body)+1))
		out.Write(hdr[:])
		out.WriteByte(r.status)
		out.Write(r.body)
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
}
