//! ClutchCall conformance testee for the Rust SDK (see tests/conformance/PROTOCOL.md).
//!
//! Reads length-prefixed requests from stdin until EOF, answers each with one length-prefixed
//! response on stdout, and uses only the SDK's by-name registries.

use clutchcall::json;
use clutchcall::registry;
use clutchcall::wire::{self, quic, CodecError};
use clutchcall::DecodeError;
use std::io::{self, Read, Write};

enum Reply {
    Ok(Vec<u8>),
    Decode(String),
    Unsupported(String),
    Bug(String),
}

fn decode_err(e: DecodeError) -> Reply {
    Reply::Decode(e.reason.name().to_string())
}

fn codec_err(e: CodecError) -> Reply {
    match e {
        CodecError::Decode(d) => decode_err(d),
        CodecError::Encode(_) => Reply::Decode("invalid_value".to_string()),
    }
}

/// `proto.Struct?a=true&b=false` -> the name and the args in the struct's order.
fn split_args(name: &str, arg_names: &[&str]) -> Vec<bool> {
    let query = name.split_once('?').map(|(_, q)| q).unwrap_or("");
    arg_names
        .iter()
        .map(|a| {
            query
                .split('&')
                .any(|kv| kv == format!("{a}=true"))
        })
        .collect()
}

fn handle(op: u8, name: &str, payload: &[u8]) -> Reply {
    match op {
        1..=3 => {
            let Some(codec) = registry::message(name) else {
                return Reply::Unsupported(format!("unknown message {name}"));
            };
            let result = match op {
                1 => (codec.binary_roundtrip)(payload),
                2 => (codec.binary_to_json)(payload).map(String::into_bytes),
                _ => (codec.json_to_binary)(payload),
            };
            match result {
                Ok(b) => Reply::Ok(b),
                Err(e) => decode_err(e),
            }
        }
        4..=6 => {
            let base = name.split('?').next().unwrap_or(name);
            let Some(codec) = wire::struct_codec(base) else {
                return Reply::Unsupported(format!("unknown wire struct {base}"));
            };
            let args = split_args(name, codec.args);
            match op {
                4 => match (codec.roundtrip)(payload, &args) {
                    Ok(b) => Reply::Ok(b),
                    Err(CodecError::Encode(e)) => Reply::Bug(format!("re-encode failed: {e}")),
                    Err(e) => codec_err(e),
                },
                5 => match (codec.to_json)(payload, &args) {
                    Ok(v) => Reply::Ok(v.to_json_string().into_bytes()),
                    Err(e) => decode_err(e),
                },
                _ => match json::parse(payload) {
                    Ok(v) => match (codec.from_json)(&v, &args) {
                        Ok(b) => Reply::Ok(b),
                        Err(e) => codec_err(e),
                    },
                    Err(e) => decode_err(e),
                },
            }
        }
        7 => {
            let Some(codec) = wire::stream_codec(name) else {
                return Reply::Unsupported(format!("unknown stream {name}"));
            };
            if payload.len() < 4 {
                return Reply::Bug("stream_parse needs a 4-byte chunk size".to_string());
            }
            let chunk = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize;
            match (codec.parse)(&payload[4..], chunk) {
                Ok(v) => Reply::Ok(v.to_json_string().into_bytes()),
                Err(e) => decode_err(e),
            }
        }
        8 | 9 if name != "quic" => Reply::Unsupported(format!("unknown varint kind {name}")),
        8 => match quic::decode_varint(payload) {
            Ok((v, n)) if n == payload.len() => Reply::Ok(v.to_string().into_bytes()),
            Ok(_) => Reply::Decode("trailing_bytes".to_string()),
            Err(e) => decode_err(e),
        },
        9 => {
            let text = String::from_utf8_lossy(payload);
            match text.trim().parse::<u128>() {
                Ok(v) => match u64::try_from(v).ok().map(quic::encode_varint) {
                    Some(Ok(b)) => Reply::Ok(b),
                    _ => Reply::Decode("invalid_value".to_string()),
                },
                Err(_) => Reply::Decode("invalid_value".to_string()),
            }
        }
        _ => Reply::Unsupported(format!("unknown op {op}")),
    }
}

fn respond(out: &mut impl Write, reply: Reply) -> io::Result<()> {
    let (status, body) = match reply {
        Reply::Ok(b) => (0u8, b),
        Reply::Decode(r) => (1, r.into_bytes()),
        Reply::Unsupported(m) => (2, m.into_bytes()),
        Reply::Bug(m) => (3, m.into_bytes()),
    };
    out.write_all(&((body.len() + 1) as u32).to_le_bytes())?;
    out.write_all(&[status])?;
    out.write_all(&body)?;
    out.flush()
}

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    loop {
        let mut len = [0u8; 4];
        match input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut frame = vec![0u8; u32::from_le_bytes(len) as usize];
        input.read_exact(&mut frame)?;
        let reply = if frame.len() < 3 {
            Reply::Bug("request shorter than its header".to_string())
        } else {
            let op = frame[0];
            let n = u16::from_le_bytes([frame[1], frame[2]]) as usize;
            match frame.get(3..3 + n).map(std::str::from_utf8) {
                Some(Ok(name)) => {
                    let name = name.to_string();
                    let payload = &frame[3 + n..];
                    std::panic::catch_unwind(|| handle(op, &name, payload))
                        .unwrap_or_else(|_| Reply::Bug("panic".to_string()))
                }
                _ => Reply::Bug("bad type name".to_string()),
            }
        };
        respond(&mut out, reply)?;
    }
}
