// Encode/decode cost of the generated TypeScript SDK, side by side in one run with protobufjs
// (the npm protobuf runtime) for the same Call, plus a MoQT subgroup header and one object.
// Usage: node dist/bench.js VECTORS_DIR PROTO_FILE  (run.sh does the set-up).

import { readFileSync } from "node:fs";
import { join } from "node:path";

import protobuf from "protobufjs";

import { Call, fromHex, moqtD14, parseJson, toHex } from "@clutchcall/sdk";
import type { JsonValue, StreamItemInput } from "@clutchcall/sdk";

const [vectorsDir = "../../tests/vectors", protoFile = "clutchcall.proto"] =
  process.argv.slice(2);

/** How many calls of `fn` take about 5 ms (which also warms it up). */
function batchSize(fn: () => unknown): number {
  let n = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    if (Number(process.hrtime.bigint() - t0) > 5e6) return n;
    n *= 2;
  }
}

/** ns per call of each of `fns`: the best of `repeats` batches of about 5 ms each. The functions'
 * batches alternate, so that a slow stretch of this shared machine (or a GC another function's
 * garbage set off) falls on both sides of a ratio instead of on one. */
function time(fns: (() => unknown)[], repeats = 40): number[] {
  const sizes = fns.map(batchSize);
  const best = fns.map(() => Infinity);
  for (let r = 0; r < repeats; r++) {
    fns.forEach((fn, k) => {
      const n = sizes[k]!;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      best[k] = Math.min(best[k]!, Number(process.hrtime.bigint() - t0) / n);
    });
  }
  return best;
}

// The same Call as benchmarks/bench_python_codec.py: the `Call/realistic` golden vector.
const dto = parseJson(readFileSync(join(vectorsDir, "dto.json"), "utf8")) as {
  cases: { name: string; hex: string }[];
};
const realistic = dto.cases.find((c) => c.name === "Call/realistic");
if (realistic === undefined) throw new Error("no Call/realistic vector");
const callBytes = fromHex(realistic.hex)!;
const ours = Call.decode(callBytes);
if (toHex(ours.encode()) !== realistic.hex) throw new Error("Call does not round-trip");

const root = protobuf.loadSync(protoFile);
const PbCall = root.lookupType("clutchcall.v1.Call");
const pb = PbCall.decode(callBytes);
if (toHex(PbCall.encode(pb).finish()) !== realistic.hex) {
  throw new Error("protobufjs does not round-trip the Call");
}

// A MoQT subgroup stream: SUBGROUP_HEADER 0x10 and one 160-byte object (a 20 ms G.711 frame).
const payload = new Uint8Array(160).map((_, i) => (i * 37) & 0xff);
const header: JsonValue = { type: 16, track_alias: 2, group_id: 7, publisher_priority: 128 };
const object: JsonValue = { object_id_delta: 0, payload_length: 160, payload: toHex(payload) };
const items: StreamItemInput[] = [
  { struct: moqtD14.SubgroupHeader, value: moqtD14.SubgroupHeader.fromJson(header) },
  { struct: moqtD14.SubgroupObject, value: moqtD14.SubgroupObject.fromJson(object) },
];
const streamBytes = moqtD14.dataStream.encode(items);
function parseSubgroup(): number {
  const p = moqtD14.dataStream.parser();
  const n = p.feed(streamBytes).length;
  p.close();
  return n;
}
if (parseSubgroup() !== 2) throw new Error("subgroup stream does not parse");

function fmt(ns: number): string {
  return ns >= 1e4 ? `${(ns / 1e3).toFixed(2)} us` : `${ns.toFixed(0)} ns`;
}

const rows: [string, string, () => unknown, (() => unknown) | undefined][] = [
  ["Call", "encode", () => ours.encode(), () => PbCall.encode(pb).finish()],
  ["Call", "decode", () => Call.decode(callBytes), () => PbCall.decode(callBytes)],
  ["Call", "toJsonString", () => ours.toJsonString(), () => JSON.stringify(PbCall.toObject(pb, { longs: String, enums: String, bytes: String }))],
  ["MoQT subgroup", "encode (hdr+obj)", () => moqtD14.dataStream.encode(items), undefined],
  ["MoQT subgroup", "parse (hdr+obj)", parseSubgroup, undefined],
];
console.log(`Call: ${callBytes.length} bytes; subgroup stream: ${streamBytes.length} bytes; node ${process.version}`);
console.log(`${"message".padEnd(14)} ${"operation".padEnd(17)} ${"generated".padStart(11)} ${"protobufjs".padStart(11)} ${"ours/pbjs".padStart(9)}`);
for (const [msg, op, fn, ref] of rows) {
  const [a = NaN, b] = time(ref === undefined ? [fn] : [fn, ref]);
  const ratio = b === undefined ? "-" : (a / b).toFixed(2);
  console.log(`${msg.padEnd(14)} ${op.padEnd(17)} ${fmt(a).padStart(11)} ${(b === undefined ? "-" : fmt(b)).padStart(11)} ${ratio.padStart(9)}`);
}
