// Benchmark: the generated Java codec against protobuf-java (the official runtime) for one
// realistic Call (the `Call/realistic` golden vector, the same values as
// benchmarks/bench_python_codec.py), and the generated MoQT codec for a subgroup stream header
// plus one 160-byte object (whole, and in two chunks split inside the object). Built and run by
// run.sh; prints ns/op and ratio ours/official.

import dev.clutchcall.v1.Call;
import dev.clutchcall.v1.internal.Json;
import dev.clutchcall.v1.wire.WireJson;
import dev.clutchcall.v1.wire.WireStruct;
import dev.clutchcall.v1.wire.moqt_d14.DataParser;
import dev.clutchcall.v1.wire.moqt_d14.SubgroupHeader;
import dev.clutchcall.v1.wire.moqt_d14.SubgroupObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

public final class Bench {
  static volatile Object sink;

  /** Minimum ns per call over `repeats` runs of about 50 ms each, after a warm-up. */
  static double time(Supplier<Object> fn, int repeats) {
    long n = 1;
    while (true) {
      long t0 = System.nanoTime();
      for (long i = 0; i < n; i++) {
        sink = fn.get();
      }
      long dt = System.nanoTime() - t0;
      if (dt > 50_000_000L) {
        break;
      }
      n *= 2;
    }
    double best = Double.MAX_VALUE;
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      for (long i = 0; i < n; i++) {
        sink = fn.get();
      }
      best = Math.min(best, (System.nanoTime() - t0) / (double) n);
    }
    return best;
  }

  @SuppressWarnings("unchecked")
  public static void main(String[] args) throws Exception {
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    Map<String, Object> dto =
        (Map<String, Object>)
            Json.parse(new String(Files.readAllBytes(Path.of(args[0], "dto.json")), StandardCharsets.UTF_8));
    byte[] callBytes = null;
    for (Object o : (List<Object>) dto.get("cases")) {
      Map<String, Object> c = (Map<String, Object>) o;
      if ("Call/realistic".equals(c.get("name"))) {
        callBytes = WireJson.unhex(c.get("hex"), "hex");
      }
    }
    if (callBytes == null) {
      throw new IllegalStateException("no Call/realistic vector");
    }
    final byte[] wire = callBytes;
    Call ours = Call.decode(wire);
    clutchcall.v1.Clutchcall.Call official = clutchcall.v1.Clutchcall.Call.parseFrom(wire);
    if (!java.util.Arrays.equals(ours.encode(), official.toByteArray())) {
      throw new IllegalStateException("the two encoders disagree");
    }

    StringBuilder payload = new StringBuilder();
    for (int i = 0; i < 160; i++) {
      payload.append(String.format("%02x", (i * 37) & 0xFF));
    }
    SubgroupHeader header =
        SubgroupHeader.fromJson(
            Json.parse(
                "{\"type\":20,\"track_alias\":2,\"group_id\":7,\"subgroup_id\":3,\"publisher_priority\":128}"));
    SubgroupObject object =
        SubgroupObject.fromJson(
            Json.parse(
                "{\"object_id_delta\":0,\"payload_length\":160,\"payload\":\"" + payload + "\"}"));
    List<WireStruct> objects = List.of(object);
    byte[] stream = DataParser.encode(header, objects);

    System.out.printf(
        "java %s, %s; protobuf-java %s; %d repeats, minimum ns/op%n",
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"),
        System.getProperty("protobuf.version", "?"),
        repeats);
    System.out.printf("%-34s %12s %12s %8s%n", "case", "ours", "official", "ratio");
    double e1 = time(ours::encode, repeats);
    double e2 = time(official::toByteArray, repeats);
    System.out.printf("%-34s %12.1f %12.1f %8.2f%n", "Call encode (" + wire.length + " B)", e1, e2, e1 / e2);
    double d1 = time(() -> Call.decode(wire), repeats);
    double d2 =
        time(
            () -> {
              try {
                return clutchcall.v1.Clutchcall.Call.parseFrom(wire);
              } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
              }
            },
            repeats);
    System.out.printf("%-34s %12.1f %12.1f %8.2f%n", "Call decode", d1, d2, d1 / d2);
    double m1 = time(() -> DataParser.encode(header, objects), repeats);
    System.out.printf(
        "%-34s %12.1f %12s %8s%n", "MoQT subgroup hdr+obj encode (" + stream.length + " B)", m1, "-", "-");
    double m2 =
        time(
            () -> {
              DataParser p = new DataParser();
              List<WireStruct> items = p.feed(stream, 0, stream.length);
              p.close();
              return items;
            },
            repeats);
    System.out.printf("%-34s %12.1f %12s %8s%n", "MoQT subgroup hdr+obj decode", m2, "-", "-");
    // The same stream in two chunks, split inside the object: the parser keeps the first's tail.
    int half = stream.length / 2;
    double m3 =
        time(
            () -> {
              DataParser p = new DataParser();
              int items = p.feed(stream, 0, half).size();
              items += p.feed(stream, half, stream.length - half).size();
              p.close();
              return items;
            },
            repeats);
    System.out.printf("%-34s %12.1f %12s %8s%n", "MoQT hdr+obj decode, 2 chunks", m3, "-", "-");
  }
}
