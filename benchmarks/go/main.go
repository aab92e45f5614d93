// Benchmark of the generated Go SDK against the official Go protobuf runtime
// (google.golang.org/protobuf) for one realistic Call, plus a MoQT subgroup header and one
// object with the generated wire codec. Built and run by run.sh, which generates both codecs.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	clutchcall "github.com/clutchcall/clutchcall-go"
	"github.com/clutchcall/clutchcall-go/wire/moqtd14"
	"google.golang.org/protobuf/proto"

	pb "clutchcall-bench/pb"
)

// realisticCall is the Call/realistic golden vector: the same values bench_python_codec.py uses.
func realisticCall(dir string) []byte {
	raw, err := os.ReadFile(filepath.Join(dir, "dto.json"))
	if err != nil {
		panic(err)
	}
	var f struct {
		Cases []struct {
			Name string `json:"name"`
			Hex  string `json:"hex"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		panic(err)
	}
	for _, c := range f.Cases {
		if c.Name == "Call/realistic" {
			b, _ := hex.DecodeString(c.Hex)
			return b
		}
	}
	panic("Call/realistic not found")
}

func ns(r testing.BenchmarkResult) float64 { return float64(r.T.Nanoseconds()) / float64(r.N) }

func row(what string, ours, official testing.BenchmarkResult) {
	fmt.Printf("%-28s %10.1f %12.1f %8.2f\n", what, ns(ours), ns(official), ns(ours)/ns(official))
}

func main() {
	data := realisticCall(os.Args[1])
	var ours clutchcall.Call
	if err := ours.UnmarshalBinary(data); err != nil {
		panic(err)
	}
	var theirs pb.Call
	if err := proto.Unmarshal(data, &theirs); err != nil {
		panic(err)
	}
	a, _ := ours.MarshalBinary()
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(&theirs)
	if !bytes.Equal(a, data) || !bytes.Equal(b, data) {
		panic("the codecs disagree with the vector")
	}
	fmt.Printf("Call: %d bytes (Call/realistic vector)\n", len(data))
	fmt.Printf("%-28s %10s %12s %8s\n", "", "ours ns/op", "official ns/op", "ratio")
	encOurs := testing.Benchmark(func(bb *testing.B) {
		buf := make([]byte, 0, 1024)
		for i := 0; i < bb.N; i++ {
			buf, _ = ours.AppendBinary(buf[:0])
		}
	})
	encOff := testing.Benchmark(func(bb *testing.B) {
		buf := make([]byte, 0, 1024)
		opts := proto.MarshalOptions{Deterministic: true}
		for i := 0; i < bb.N; i++ {
			buf, _ = opts.MarshalAppend(buf[:0], &theirs)
		}
	})
	row("Call encode", encOurs, encOff)
	decOurs := testing.Benchmark(func(bb *testing.B) {
		for i := 0; i < bb.N; i++ {
			var m clutchcall.Call
			if err := m.UnmarshalBinary(data); err != nil {
				panic(err)
			}
		}
	})
	decOff := testing.Benchmark(func(bb *testing.B) {
		for i := 0; i < bb.N; i++ {
			var m pb.Call
			if err := proto.Unmarshal(data, &m); err != nil {
				panic(err)
			}
		}
	})
	row("Call decode", decOurs, decOff)

	// A subgroup stream opening: SUBGROUP_HEADER (type 0x14) and one 160-byte audio object.
	sub := uint64(0)
	hdr := &moqtd14.SubgroupHeader{Type: 0x14, TrackAlias: 2, GroupID: 7, SubgroupID: &sub, PublisherPriority: 128}
	obj := &moqtd14.SubgroupObject{ObjectIDDelta: 0, PayloadLength: 160, Payload: bytes.Repeat([]byte{0x5a}, 160)}
	stream, err := moqtd14.EncodeData(hdr, obj)
	if err != nil {
		panic(err)
	}
	enc := testing.Benchmark(func(bb *testing.B) {
		for i := 0; i < bb.N; i++ {
			if _, err := moqtd14.EncodeData(hdr, obj); err != nil {
				panic(err)
			}
		}
	})
	dec := testing.Benchmark(func(bb *testing.B) {
		for i := 0; i < bb.N; i++ {
			p := moqtd14.NewDataParser()
			items, err := p.Feed(stream)
			if err != nil || len(items) != 2 {
				panic(err)
			}
			if _, err := p.Close(); err != nil {
				panic(err)
			}
		}
	})
	fmt.Printf("MoQT SubgroupHeader + object (%d bytes): encode %.1f ns/op, decode %.1f ns/op (no official peer)\n",
		len(stream), ns(enc), ns(dec))
}
