// Benchmark of the generated Go SDK against the official Go protobuf runtime
// (google.golang.org/protobuf) for one realistic Call, plus a MoQT subgroup header and one
// object with the generated wire codec. Built and run by run.sh, which generates both codecs.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

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

var (
	benchtime = flag.Duration("benchtime", time.Second, "how long one timed run of a case lasts at least")
	repeats   = flag.Int("repeats", 1, "time each case this many times and keep the fastest (less noise on a busy machine)")
	clock     = flag.String("clock", "wall", "wall: elapsed time; cpu: the process's CPU time (user+system of "+
		"every thread, the GC's included), steadier when other work shares the cores")
	only    = flag.String("only", "", "time only the rows whose name contains this")
	list    = flag.Bool("list", false, "print the rows' names (a line \"row NAME\" each) and time nothing")
	started = time.Now()
)

func now() time.Duration {
	if *clock != "cpu" {
		return time.Since(started)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bench times f(n), n iterations of a case: ns per iteration, the fastest of -repeats runs, n
// grown (as testing.B grows it) until one run lasts -benchtime.
func bench(f func(n int)) float64 {
	best := math.Inf(1)
	for r := 0; r < *repeats; r++ {
		for n := 1; ; {
			runtime.GC() // the garbage of earlier runs is not collected on this run's time
			t0 := now()
			f(n)
			d := now() - t0
			if d >= *benchtime || n >= 1e9 {
				best = min(best, float64(d)/float64(n))
				break
			}
			n = min(max(int(1.2*float64(n)*float64(*benchtime)/float64(max(d, 1))), n+1), 100*n)
		}
	}
	return best
}

// selected says whether to time the row what (-only); with -list it prints the name instead.
func selected(what string) bool {
	if *list {
		fmt.Printf("row %s\n", what)
		return false
	}
	return strings.Contains(what, *only)
}

func row(what string, ours, official float64) {
	fmt.Printf("%-28s %10.1f %12.1f %8.2f\n", what, ours, official, ours/official)
}

func main() {
	flag.Parse()
	if *clock != "wall" && *clock != "cpu" {
		panic("-clock is wall or cpu, not " + *clock)
	}
	data := realisticCall(flag.Arg(0))
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
	if selected("Call encode") {
		callEncode(&ours, &theirs)
	}
	if selected("Call decode") {
		callDecode(data)
	}
	streams()
}

func callEncode(ours *clutchcall.Call, theirs *pb.Call) {
	encOurs := bench(func(n int) {
		buf := make([]byte, 0, 1024)
		for i := 0; i < n; i++ {
			buf, _ = ours.AppendBinary(buf[:0])
		}
	})
	encOff := bench(func(n int) {
		buf := make([]byte, 0, 1024)
		opts := proto.MarshalOptions{Deterministic: true}
		for i := 0; i < n; i++ {
			buf, _ = opts.MarshalAppend(buf[:0], theirs)
		}
	})
	row("Call encode", encOurs, encOff)
}

func callDecode(data []byte) {
	decOurs := bench(func(n int) {
		for i := 0; i < n; i++ {
			var m clutchcall.Call
			if err := m.UnmarshalBinary(data); err != nil {
				panic(err)
			}
		}
	})
	decOff := bench(func(n int) {
		for i := 0; i < n; i++ {
			var m pb.Call
			if err := proto.Unmarshal(data, &m); err != nil {
				panic(err)
			}
		}
	})
	row("Call decode", decOurs, decOff)
}

// nsPerItem times run, which handles items items an iteration.
func nsPerItem(items int, run func()) float64 {
	return bench(func(n int) {
		for i := 0; i < n; i++ {
			run()
		}
	}) / float64(items)
}

// parseAll parses a whole stream fed in one piece and checks the item count.
func parseAll(p interface {
	Feed([]byte) ([]moqtd14.Value, error)
	Close() ([]moqtd14.Value, error)
}, stream []byte, want int) {
	items, err := p.Feed(stream)
	if err != nil || len(items) != want {
		panic(fmt.Sprint(len(items), err))
	}
	if _, err := p.Close(); err != nil {
		panic(err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// streams times the MoQT stream parsers and encoders (no official peer): the "stream" lines,
// ns per item, are what run.sh --peer compares between two generated trees.
func streams() {
	// A subgroup stream opening: SUBGROUP_HEADER (type 0x14) and one 160-byte audio object.
	sub := uint64(0)
	hdr := &moqtd14.SubgroupHeader{Type: 0x14, TrackAlias: 2, GroupID: 7, SubgroupID: &sub, PublisherPriority: 128}
	obj := &moqtd14.SubgroupObject{ObjectIDDelta: 0, PayloadLength: 160, Payload: bytes.Repeat([]byte{0x5a}, 160)}
	opening := must(moqtd14.EncodeData(hdr, obj))
	const run = 64 // objects in the longer stream
	objects := make([]moqtd14.Value, run)
	for i := range objects {
		objects[i] = obj
	}
	long := must(moqtd14.EncodeData(hdr, objects...))
	control := []moqtd14.Value{
		&moqtd14.Subscribe{RequestID: 4, TrackNamespace: moqtd14.TrackNamespace{Fields: [][]byte{[]byte("voice"), []byte("CA12")}},
			TrackName: []byte("uplink"), SubscriberPriority: 128, GroupOrder: 1, Forward: 1, FilterType: 2},
		&moqtd14.SubscribeOk{RequestID: 4, TrackAlias: 2, GroupOrder: 1},
		&moqtd14.MaxRequestID{RequestID: 100},
		&moqtd14.Unsubscribe{RequestID: 4},
	}
	var controlBytes []byte
	for _, m := range control {
		controlBytes = append(controlBytes, must(moqtd14.EncodeControl(m))...)
	}
	fmt.Printf("MoQT streams (no official peer), ns per item (a header, an object or a message)\n")
	line := func(what string, items int, run func()) {
		if selected(what) {
			fmt.Printf("stream %-36s %10.1f\n", what, nsPerItem(items, run))
		}
	}
	line("data decode hdr+obj (168 B)", 2, func() { parseAll(moqtd14.NewDataParser(), opening, 2) })
	line(fmt.Sprintf("data decode hdr+%d obj", run), run+1, func() { parseAll(moqtd14.NewDataParser(), long, run+1) })
	line(fmt.Sprintf("control decode %d msgs", len(control)), len(control),
		func() { parseAll(moqtd14.NewControlParser(), controlBytes, len(control)) })
	line("data encode hdr+obj (168 B)", 2, func() { must(moqtd14.EncodeData(hdr, obj)) })
	line(fmt.Sprintf("data encode hdr+%d obj", run), run+1, func() { must(moqtd14.EncodeData(hdr, objects...)) })
	line(fmt.Sprintf("control encode %d msgs", len(control)), len(control), func() {
		for _, m := range control {
			must(moqtd14.EncodeControl(m))
		}
	})
}
