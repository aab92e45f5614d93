//! Benchmark: the generated Rust codec (`clutchcall`) against prost, in one run.
//!
//! - `Call`: encode and decode of the `Call/realistic` golden vector (the same values
//!   benchmarks/bench_python_codec.py uses), with ours and with prost (side by side, ratio
//!   ours/prost: below 1 means ours is faster).
//! - MoQT draft-14: a SubgroupHeader (type 0x14, explicit subgroup id) plus one SubgroupObject
//!   carrying a 160-byte payload (20 ms of G.711), encoded and parsed with the generated stream
//!   parser. prost has no MoQT codec, so these figures stand alone.
//!
//! Each figure is the minimum over REPEATS runs of ns/op (the least disturbed run).

use std::hint::black_box;
use std::time::Instant;

use clutchcall::json::{self, Value};
use clutchcall::messages::{Call, Message as _};
use clutchcall::wire::moqt_d14::{DataItem, DataParser, SubgroupHeader, SubgroupObject};
use prost::Message as _;

#[allow(dead_code, clippy::all)]
mod pb {
    include!(concat!(env!("OUT_DIR"), "/clutchcall.v1.rs"));
}

const REPEATS: usize = 15;

/// Minimum ns per call of `f` over REPEATS runs of about 20 ms each.
fn time(mut f: impl FnMut()) -> f64 {
    let mut n: u64 = 1;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed().as_millis() >= 20 {
            break;
        }
        n *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..REPEATS {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
    }
    best
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The binary of the `Call/realistic` golden vector.
fn realistic_call() -> Vec<u8> {
    let dir = std::env::var("CLUTCHCALL_VECTORS").expect("set CLUTCHCALL_VECTORS (run.sh does)");
    let text = std::fs::read(format!("{dir}/dto.json")).expect("read dto.json");
    let doc = json::parse(&text).expect("dto.json parses");
    let Some(Value::Array(cases)) = doc.get("cases") else {
        panic!("dto.json has no cases");
    };
    for case in cases {
        if let Some(Value::String(name)) = case.get("name") {
            if name == "Call/realistic" {
                let Some(Value::String(h)) = case.get("hex") else {
                    panic!("Call/realistic has no hex");
                };
                return unhex(h);
            }
        }
    }
    panic!("no Call/realistic vector");
}

fn row(name: &str, ours: f64, prost: Option<f64>) {
    match prost {
        Some(p) => println!("{name:<34} {ours:>10.1} {p:>10.1} {:>8.2}", ours / p),
        None => println!("{name:<34} {ours:>10.1} {:>10} {:>8}", "-", "-"),
    }
}

fn main() {
    let bytes = realistic_call();
    let ours = Call::decode(&bytes).expect("ours decodes the vector");
    let theirs = pb::Call::decode(bytes.as_slice()).expect("prost decodes the vector");
    // Both sides must produce the canonical bytes of the vector, else the comparison is void.
    assert_eq!(ours.encode(), bytes, "ours re-encodes the vector");
    assert_eq!(theirs.encode_to_vec(), bytes, "prost re-encodes the vector");

    println!("Call: {} bytes; MoQT: SubgroupHeader 0x14 + one 160-byte object", bytes.len());
    println!("{:<34} {:>10} {:>10} {:>8}", "ns/op (min of 15 runs)", "ours", "prost", "ratio");

    let mut buf = Vec::with_capacity(1024);
    let enc_ours = time(|| {
        buf.clear();
        black_box(&ours).encode_to(&mut buf);
        black_box(&buf);
    });
    let enc_prost = time(|| {
        buf.clear();
        black_box(&theirs).encode(&mut buf).expect("room");
        black_box(&buf);
    });
    row("Call encode", enc_ours, Some(enc_prost));
    let dec_ours = time(|| {
        black_box(Call::decode(black_box(&bytes)).expect("decodes"));
    });
    let dec_prost = time(|| {
        black_box(pb::Call::decode(black_box(bytes.as_slice())).expect("decodes"));
    });
    row("Call decode", dec_ours, Some(dec_prost));

    let header = SubgroupHeader {
        r#type: 0x14,
        track_alias: 2,
        group_id: 7,
        subgroup_id: Some(3),
        publisher_priority: 128,
    };
    let payload: Vec<u8> = (0..160u32).map(|i| (i * 37 % 251) as u8).collect();
    let object = SubgroupObject {
        object_id_delta: 0,
        extension_headers: None,
        payload_length: payload.len() as u64,
        object_status: None,
        payload,
    };
    let mut wire = header.encode().expect("header encodes");
    wire.extend(object.encode(false).expect("object encodes"));
    let mut check = DataParser::new();
    let items = check.feed(&wire).expect("parses");
    check.close().expect("complete");
    assert!(matches!(items.as_slice(), [DataItem::SubgroupHeader(h), DataItem::SubgroupObject(o)] if *h == header && *o == object));

    let moqt_enc = time(|| {
        let mut out = black_box(&header).encode().expect("encodes");
        out.extend(black_box(&object).encode(false).expect("encodes"));
        black_box(out);
    });
    row("MoQT header+object encode", moqt_enc, None);
    let moqt_dec = time(|| {
        let mut p = DataParser::new();
        let items = p.feed(black_box(&wire)).expect("parses");
        p.close().expect("complete");
        black_box(items);
    });
    row("MoQT header+object parse", moqt_dec, None);
}
