//! Compile the IDL's protobuf schema with prost-build (which runs the machine's `protoc`).
//! run.sh passes the .proto file in CLUTCHCALL_PROTO.

use std::path::Path;

fn main() {
    let proto = std::env::var("CLUTCHCALL_PROTO").expect("set CLUTCHCALL_PROTO (run.sh does)");
    let dir = Path::new(&proto).parent().expect("a file path");
    println!("cargo:rerun-if-changed={proto}");
    println!("cargo:rerun-if-env-changed=CLUTCHCALL_PROTO");
    prost_build::compile_protos(&[proto.as_str()], &[dir]).expect("prost-build / protoc failed");
}
