"""The test categories: each turns vectors or seeded random values into cases per language.

A case is a few requests to one language and a check of the answers; its id is
`category/type/case`. Cases run in batches (one per language and step, languages in
parallel), so a testee process serves thousands of requests without a restart.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from apirpc_compiler.ir.model import IR

from .dto_values import DtoGenerator, JsonNormalizer, Mismatch, diff, oracle_expect
from .results import Results
from .testee_client import DECODE_ERROR, OK, Request, Response, Testee
from .wire_values import WireModel

Check = Callable[[list[Response]], str]


@dataclass
class Case:
    case_id: str
    requests: list[Request]
    check: Check


@dataclass
class Context:
    ir: IR
    vectors: dict[str, Any]  # file stem -> parsed vector file
    oracle: dict[str, Any]  # message name -> upb class
    testees: dict[str, Testee]
    results: Results
    seed: int
    random_n: int
    random_wire_n: int
    fuzz_n: int

    @property
    def langs(self) -> list[str]:
        return sorted(self.testees)


def execute(ctx: Context, cases: dict[str, list[Case]]) -> None:
    """Run every language's cases (languages in parallel) and record the verdicts."""

    def one(lang: str) -> None:
        mine = cases.get(lang, [])
        answers = ctx.testees[lang].run([r for c in mine for r in c.requests])
        pos = 0
        for case in mine:
            got = answers[pos : pos + len(case.requests)]
            pos += len(case.requests)
            try:
                reason = case.check(got)
            except Exception as e:  # a malformed answer must not stop the run
                reason = f"unreadable answer: {type(e).__name__}: {e}"
            ctx.results.record(lang, case.case_id, reason)

    with ThreadPoolExecutor(max_workers=max(1, len(ctx.langs))) as pool:
        for f in [pool.submit(one, lang) for lang in ctx.langs]:
            f.result()


# ---- checks ----


def ok_bytes(resp: Response, expected: bytes, what: str) -> str:
    if resp.status != OK:
        return f"{what}: {resp.describe()}"
    if resp.body != expected:
        return f"{what}: got {resp.body.hex() or '(empty)'}, expected {expected.hex() or '(empty)'}"
    return ""


def decode_error(resp: Response, reason: str, what: str) -> str:
    if resp.status == DECODE_ERROR and resp.body.decode("ascii", "replace") == reason:
        return ""
    return f"{what}: {resp.describe()}, expected decode error {reason}"


def _json_int(text: str) -> int | float:
    # "-0" is JSON's negative zero (as JavaScript and Go's protojson read and write it); Python's
    # json would make it the integer 0 and lose the sign.
    return -0.0 if text == "-0" else int(text)


def loads(body: bytes) -> Any:
    return json.loads(body, parse_int=_json_int)


def ok_json(resp: Response, expected: Any, what: str, normalize: Callable[[Any], Any] = lambda x: x) -> str:
    if resp.status != OK:
        return f"{what}: {resp.describe()}"
    try:
        actual = normalize(loads(resp.body))
    except (ValueError, Mismatch) as e:
        return f"{what}: bad JSON: {e}"
    d = diff(expected, actual)
    return f"{what}: {d}" if d else ""


def first(*reasons: str) -> str:
    return next((r for r in reasons if r), "")


def all_langs(ctx: Context, make: Callable[[str], list[Case]]) -> dict[str, list[Case]]:
    return {lang: make(lang) for lang in ctx.langs}


def wire_name(protocol: str, struct: dict[str, Any], args: dict[str, bool] | None) -> str:
    name = f"{protocol}.{struct['name']}"
    if struct["args"]:
        name += "?" + "&".join(f"{a}={'true' if (args or {}).get(a) else 'false'}" for a in struct["args"])
    return name


def chunked(chunk: int, data: bytes) -> bytes:
    return struct.pack("<I", chunk) + data


# ---- golden vectors ----


def dto_vectors(ctx: Context) -> None:
    norm = JsonNormalizer(ctx.ir)
    cases: list[Case] = []
    for v in ctx.vectors["dto"]["cases"]:
        t, raw = v["type"], bytes.fromhex(v["hex"])
        if "error" in v:
            reason = v["error"]
            reqs = [Request(1, t, raw), Request(2, t, raw)]
            cases.append(
                Case(
                    f"dto-negative/{t}/{v['name'].split('/', 1)[-1]}",
                    reqs,
                    lambda r, e=reason: first(decode_error(r[0], e, "op 1"), decode_error(r[1], e, "op 2")),
                )
            )
            continue
        known = bytes.fromhex(v.get("known_hex", v["hex"]))
        want = norm.message(v["json"], t)
        doc = json.dumps(v["json"], ensure_ascii=False).encode()
        reqs = [Request(1, t, raw), Request(2, t, raw), Request(3, t, doc)]

        def check(r: list[Response], raw: bytes = raw, known: bytes = known, want: Any = want, t: str = t) -> str:
            return first(
                ok_bytes(r[0], raw, "op 1 (binary round trip)"),
                ok_json(r[1], want, "op 2 (binary to JSON)", lambda x: norm.message(x, t)),
                ok_bytes(r[2], known, "op 3 (JSON to binary)"),
            )

        cases.append(Case(f"dto-vectors/{t}/{v['name'].split('/', 1)[-1]}", reqs, check))
    execute(ctx, all_langs(ctx, lambda _lang: cases))


def wire_vectors(ctx: Context) -> None:
    rng = random.Random(ctx.seed ^ 0x5EED)
    cases: list[Case] = []
    for stem in ("envelope", "moqt_d14"):
        protocol = next(p for p in ctx.ir["wire"] if p["name"] == stem)
        model = WireModel(protocol)
        for v in ctx.vectors[stem]["cases"]:
            raw = bytes.fromhex(v["hex"])
            if "struct" in v:
                st = model.structs[v["struct"]]
                name = wire_name(stem, dict(st), v.get("args"))
                if "error" in v:
                    reqs = [Request(4, name, raw), Request(5, name, raw)]
                    cases.append(
                        Case(
                            f"wire-negative/{stem}.{v['struct']}/{v['name']}",
                            reqs,
                            lambda r, e=v["error"]: first(decode_error(r[0], e, "op 4"), decode_error(r[1], e, "op 5")),
                        )
                    )
                    continue
                minimal = model.encode(v["struct"], v["value"], v.get("args"))
                doc = json.dumps(v["value"]).encode()
                reqs = [Request(4, name, raw), Request(5, name, raw), Request(6, name, doc)]

                def check(r: list[Response], minimal: bytes = minimal, value: Any = v["value"]) -> str:
                    return first(
                        ok_bytes(r[0], minimal, "op 4 (round trip)"),
                        ok_json(r[1], value, "op 5 (to JSON)"),
                        ok_bytes(r[2], minimal, "op 6 (from JSON)"),
                    )

                cases.append(Case(f"wire-vectors/{stem}.{v['struct']}/{v['name']}", reqs, check))
                continue
            stream = f"{stem}.{v['stream']}"
            sizes = [0, 1, rng.randint(2, max(2, len(raw)))]
            reqs = [Request(7, stream, chunked(c, raw)) for c in sizes]
            if "error" in v:

                def neg(r: list[Response], e: str = v["error"], sizes: list[int] = sizes) -> str:
                    return first(*(decode_error(x, e, f"op 7 chunk {c}") for x, c in zip(r, sizes, strict=True)))

                cases.append(Case(f"streams/{stream}/{v['name']}", reqs, neg))
                continue
            if v["stream"] == "data":
                items = [v["header"], *v["objects"]]
            elif v["stream"] == "datagram":
                items = [v["message"]]
            else:
                items = v["messages"]

            def pos(r: list[Response], items: Any = items, sizes: list[int] = sizes) -> str:
                return first(*(ok_json(x, items, f"op 7 chunk {c}") for x, c in zip(r, sizes, strict=True)))

            cases.append(Case(f"streams/{stream}/{v['name']}", reqs, pos))
    execute(ctx, all_langs(ctx, lambda _lang: cases))


def varint_vectors(ctx: Context) -> None:
    vec = ctx.vectors["varint"]
    cases: list[Case] = []
    for v in vec["cases"]:
        raw, text = bytes.fromhex(v["hex"]), str(v["value"]).encode()
        cases.append(
            Case(
                f"varint/quic/{v['name']}",
                [Request(8, "quic", raw), Request(9, "quic", text)],
                lambda r, raw=raw, text=text: first(ok_bytes(r[0], text, "op 8"), ok_bytes(r[1], raw, "op 9")),
            )
        )
    for v in vec["decode_only"]:
        raw, text = bytes.fromhex(v["hex"]), str(v["value"]).encode()
        cases.append(
            Case(f"varint/quic/{v['name']}", [Request(8, "quic", raw)], lambda r, t=text: ok_bytes(r[0], t, "op 8"))
        )
    for v in vec["errors"]:
        raw = bytes.fromhex(v["hex"])
        cases.append(
            Case(
                f"varint/quic/{v['name']}",
                [Request(8, "quic", raw)],
                lambda r, e=v["error"]: decode_error(r[0], e, "op 8"),
            )
        )
    for v in vec["encode_errors"]:
        cases.append(
            Case(
                f"varint/quic/{v['name']}",
                [Request(9, "quic", str(v["value"]).encode())],
                lambda r, e=v["error"]: decode_error(r[0], e, "op 9"),
            )
        )
    execute(ctx, all_langs(ctx, lambda _lang: cases))


# ---- randomized values, compared across languages and with the oracles ----


def random_dto(ctx: Context) -> int:
    """Returns how many generated values the oracle refused (a generator bug if not 0)."""
    rng = random.Random(ctx.seed)
    gen = DtoGenerator(ctx.ir, rng)
    norm = JsonNormalizer(ctx.ir)
    langs = ctx.langs
    cases: dict[str, list[Case]] = {lang: [] for lang in langs}
    refused = 0
    for t_index, msg in enumerate(ctx.ir["messages"]):
        t = msg["name"]
        for i in range(ctx.random_n):
            value = gen.message(t)
            try:
                raw, printed = oracle_expect(ctx.oracle[t], value)
            except Exception:
                refused += 1
                continue
            want = norm.message(printed, t)
            doc = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()
            author = langs[(i + t_index) % len(langs)]

            def check(r: list[Response], raw: bytes = raw, want: Any = want, t: str = t, authored: bool = False) -> str:
                lead = [ok_bytes(r[0], raw, "op 3 (JSON to binary)")] if authored else []
                r = r[1:] if authored else r
                return first(
                    *lead,
                    ok_bytes(r[0], raw, "op 1 (binary round trip)"),
                    ok_json(r[1], want, "op 2 (binary to JSON)", lambda x: norm.message(x, t)),
                )

            for lang in langs:
                reqs = [Request(1, t, raw), Request(2, t, raw)]
                if lang == author:
                    reqs.insert(0, Request(3, t, doc))
                    cases[lang].append(Case(f"random-dto/{t}/{i}", reqs, lambda r, c=check: c(r, authored=True)))
                else:
                    cases[lang].append(Case(f"random-dto/{t}/{i}", reqs, check))
    execute(ctx, cases)
    return refused


def random_wire(ctx: Context) -> None:
    rng = random.Random(ctx.seed + 1)
    langs = ctx.langs
    cases: dict[str, list[Case]] = {lang: [] for lang in langs}
    k = 0
    for protocol in ctx.ir["wire"]:
        model = WireModel(protocol)
        for st in protocol["structs"]:
            for i in range(ctx.random_wire_n):
                args = {a: rng.random() < 0.5 for a in st["args"]}
                value = model.generate(st["name"], rng, args)
                raw = model.encode(st["name"], value, args)
                name = wire_name(protocol["name"], dict(st), args)
                doc = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()
                author = langs[k % len(langs)]
                k += 1
                for lang in langs:
                    reqs = [Request(4, name, raw), Request(5, name, raw)]
                    authored = lang == author
                    if authored:
                        reqs.insert(0, Request(6, name, doc))

                    def check(
                        r: list[Response], raw: bytes = raw, value: Any = value, authored: bool = authored
                    ) -> str:
                        lead = [ok_bytes(r[0], raw, "op 6 (from JSON)")] if authored else []
                        r = r[1:] if authored else r
                        return first(
                            *lead, ok_bytes(r[0], raw, "op 4 (round trip)"), ok_json(r[1], value, "op 5 (to JSON)")
                        )

                    cases[lang].append(Case(f"random-wire/{protocol['name']}.{st['name']}/{i}", reqs, check))
    execute(ctx, cases)


# ---- fuzz: mutated vectors must give ok or a decode error, and decode stably ----


def _len_positions(raw: bytes) -> list[int]:
    """Offsets of the length varints of top-level protobuf LEN fields (best effort)."""
    out, pos = [], 0
    try:
        while pos < len(raw):
            tag, pos = _pb_varint(raw, pos)
            wt = tag & 7
            if wt == 0:
                _, pos = _pb_varint(raw, pos)
            elif wt == 1:
                pos += 8
            elif wt == 5:
                pos += 4
            elif wt == 2:
                out.append(pos)
                n, pos = _pb_varint(raw, pos)
                pos += n
            else:
                break
    except IndexError:
        pass
    return out


def _pb_varint(raw: bytes, pos: int) -> tuple[int, int]:
    v, shift = 0, 0
    while True:
        b = raw[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80 or shift > 63:
            return v, pos


def mutate(raw: bytes, rng: random.Random, is_dto: bool) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.random()
        if kind < 0.3 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif kind < 0.5 and data:
            del data[rng.randrange(len(data)) :]
        elif kind < 0.7:
            i = rng.randint(0, len(data))
            data[i:i] = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 1, 2, 8])))
        elif data:
            lens = [p for p in _len_positions(bytes(data)) if p < len(data)] if is_dto else []
            i = rng.choice(lens) if lens else rng.randrange(len(data))
            data[i] = (data[i] + rng.choice([1, 2, -1, 0x40, 0x80])) & 0xFF  # bump a length
    return bytes(data)


def fuzz(ctx: Context) -> None:
    rng = random.Random(ctx.seed + 2)
    sources: list[tuple[int, str, bytes, str]] = []  # (op, type name, bytes, label)
    for v in ctx.vectors["dto"]["cases"]:
        sources.append((1, v["type"], bytes.fromhex(v["hex"]), v["type"]))
    for stem in ("envelope", "moqt_d14"):
        protocol = next(p for p in ctx.ir["wire"] if p["name"] == stem)
        structs = {s["name"]: s for s in protocol["structs"]}
        for v in ctx.vectors[stem]["cases"]:
            raw = bytes.fromhex(v["hex"])
            if "struct" in v:
                name = wire_name(stem, dict(structs[v["struct"]]), v.get("args"))
                sources.append((4, name, raw, f"{stem}.{v['struct']}"))
            else:
                sources.append((7, f"{stem}.{v['stream']}", raw, f"{stem}.{v['stream']}"))
    followups: dict[str, dict[int, Case]] = {lang: {} for lang in ctx.langs}
    mutated: list[tuple[int, str, bytes, str]] = []
    for _ in range(ctx.fuzz_n):
        op, name, raw, label = rng.choice(sources)
        data = mutate(raw, rng, op == 1)
        mutated.append((op, name, data, label))
    reasons = {e["name"] for e in ctx.ir["decode_errors"]}
    outputs: dict[str, dict[int, bytes]] = {lang: {} for lang in ctx.langs}

    def step1(lang: str) -> list[Case]:
        out = []
        for i, (op, name, data, label) in enumerate(mutated):
            payload = chunked(0, data) if op == 7 else data

            def check(r: list[Response], i: int = i, lang: str = lang) -> str:
                resp = r[0]
                if resp.status == OK:
                    outputs[lang][i] = resp.body
                    return ""
                if resp.status == DECODE_ERROR and resp.body.decode("ascii", "replace") in reasons:
                    return ""
                return f"input {mutated[i][2].hex()}: {resp.describe()}"

            out.append(Case(f"fuzz/{label}/{i}", [Request(op, name, payload)], check))
        return out

    execute(ctx, all_langs(ctx, step1))
    for lang in ctx.langs:
        for i, body in outputs[lang].items():
            op, name, data, label = mutated[i]
            # A stream is re-parsed byte by byte; a struct or message re-decodes its own output.
            req = Request(7, name, chunked(1, data)) if op == 7 else Request(op, name, body)

            def stable(r: list[Response], body: bytes = body, op: int = op, data: bytes = data) -> str:
                if op == 7:
                    return ok_json(r[0], loads(body), f"input {data.hex()}: op 7 chunk 1 vs chunk 0")
                return ok_bytes(r[0], body, f"input {data.hex()}: re-decoding the output")

            followups[lang][i] = Case(f"fuzz/{label}/{i}", [req], stable)
    execute(ctx, {lang: list(c.values()) for lang, c in followups.items()})


SUITES: list[tuple[str, Callable[[Context], Any]]] = [
    ("golden dto vectors", dto_vectors),
    ("golden wire vectors and streams", wire_vectors),
    ("varint vectors", varint_vectors),
    ("random DTO values", random_dto),
    ("random wire values", random_wire),
    ("fuzz", fuzz),
]
