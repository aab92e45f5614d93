// The ClutchCall conformance testee for the TypeScript SDK (tests/conformance/PROTOCOL.md).
// It reads length-prefixed requests on stdin and answers each on stdout, using only the
// generated package's by-name registries.

import {
  DecodeError,
  EncodeError,
  MESSAGE_TYPES,
  WIRE_STREAMS,
  WIRE_STRUCTS,
  decodeVarint,
  encodeVarint,
  parseJsonBytes,
  stringifyJson,
} from "@clutchcall/sdk";
import type { JsonValue, StreamItem } from "@clutchcall/sdk";

const OK = 0;
const DECODE_ERROR = 1;
const UNSUPPORTED = 2;
const FAILURE = 3;

class Unsupported extends Error {}

const utf8 = new TextEncoder();

function text(s: string): Uint8Array {
  return utf8.encode(s);
}

function messageType(name: string) {
  const t = MESSAGE_TYPES.get(name);
  if (t === undefined) throw new Unsupported(`no message ${name}`);
  return t;
}

/** `protocol.Struct?arg=true&...`: the struct and the args a stream header would pass. */
function wireStruct(spec: string) {
  const [name = "", query] = spec.split("?", 2);
  const s = WIRE_STRUCTS.get(name);
  if (s === undefined) throw new Unsupported(`no wire struct ${name}`);
  const args: Record<string, boolean> = {};
  for (const pair of query === undefined ? [] : query.split("&")) {
    const [k = "", v] = pair.split("=", 2);
    args[k] = v === "true";
  }
  return {
    decode: (data: Uint8Array) => s.decode(data, args),
    encode: (value: unknown) => s.encode(value, args),
    toJson: (value: unknown) => s.toJson(value),
    fromJson: (value: JsonValue) => s.fromJson(value),
  };
}

function streamParse(name: string, payload: Uint8Array): Uint8Array {
  const stream = WIRE_STREAMS.get(name);
  if (stream === undefined) throw new Unsupported(`no stream ${name}`);
  if (payload.length < 4) throw new Unsupported("stream_parse needs a chunk size");
  const view = new DataView(payload.buffer, payload.byteOffset, 4);
  const chunk = view.getUint32(0, true);
  const data = payload.subarray(4);
  const parser = stream.parser();
  const items: StreamItem[] = [];
  const step = chunk === 0 ? Math.max(1, data.length) : chunk;
  for (let i = 0; i < data.length; i += step) {
    items.push(...parser.feed(data.subarray(i, i + step)));
  }
  items.push(...parser.close());
  const out: JsonValue[] = items.map((item) => ({
    struct: item.struct.name,
    value: item.struct.toJson(item.value),
  }));
  return text(stringifyJson(out));
}

function handle(op: number, name: string, payload: Uint8Array): Uint8Array {
  switch (op) {
    case 1:
      return messageType(name).decode(payload).encode();
    case 2:
      return text(messageType(name).decode(payload).toJsonString());
    case 3:
      return messageType(name).fromJson(parseJsonBytes(payload)).encode();
    case 4: {
      const s = wireStruct(name);
      return s.encode(s.decode(payload));
    }
    case 5: {
      const s = wireStruct(name);
      return text(stringifyJson(s.toJson(s.decode(payload))));
    }
    case 6: {
      const s = wireStruct(name);
      return s.encode(s.fromJson(parseJsonBytes(payload)));
    }
    case 7:
      return streamParse(name, payload);
    case 8:
      return text(decodeVarint(payload).toString());
    case 9: {
      const s = new TextDecoder().decode(payload);
      if (!/^\d+$/.test(s)) throw new EncodeError(`not a decimal: ${s}`);
      return encodeVarint(BigInt(s));
    }
    default:
      throw new Unsupported(`unknown op ${op}`);
  }
}

function respond(request: Uint8Array): Uint8Array {
  let status = OK;
  let body: Uint8Array;
  try {
    if (request.length < 3) throw new Unsupported("short request");
    const op = request[0]!;
    const n = request[1]! | (request[2]! << 8);
    if (3 + n > request.length) throw new Unsupported("short type name");
    const name = new TextDecoder().decode(request.subarray(3, 3 + n));
    body = handle(op, name, request.subarray(3 + n));
  } catch (e) {
    if (e instanceof DecodeError) {
      status = DECODE_ERROR;
      body = text(e.reason);
    } else if (e instanceof EncodeError) {
      status = DECODE_ERROR;
      body = text("invalid_value");
    } else if (e instanceof Unsupported) {
      status = UNSUPPORTED;
      body = text(e.message);
    } else {
      status = FAILURE;
      body = text(String(e));
    }
  }
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(0, 1 + body.length, true);
  out[4] = status;
  out.set(body, 5);
  return out;
}

async function main(): Promise<void> {
  let pending = new Uint8Array(0);
  const { stdin, stdout } = await import("node:process");
  const write = (b: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      stdout.write(b, (err) => (err ? reject(err) : resolve())),
    );
  for await (const chunk of stdin) {
    const c = chunk as Uint8Array;
    const merged = new Uint8Array(pending.length + c.length);
    merged.set(pending);
    merged.set(c, pending.length);
    pending = merged;
    for (;;) {
      if (pending.length < 4) break;
      const n = new DataView(pending.buffer, pending.byteOffset).getUint32(0, true);
      if (pending.length < 4 + n) break;
      const request = pending.slice(4, 4 + n);
      pending = pending.slice(4 + n);
      await write(respond(request));
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`testee: ${String(e)}\n`);
  process.exit(3);
});
