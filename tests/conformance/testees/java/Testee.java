// The Java conformance testee: the 9 ops of ../../PROTOCOL.md over a generated Java SDK.
// Build with ./build.sh GENERATED_JAVA_DIR; it prints the command that runs the testee.
// Reads framed requests from stdin until EOF and writes one framed response per request.

import dev.clutchcall.v1.DecodeException;
import dev.clutchcall.v1.EncodeException;
import dev.clutchcall.v1.MessageCodec;
import dev.clutchcall.v1.Messages;
import dev.clutchcall.v1.internal.Json;
import dev.clutchcall.v1.wire.StreamParser;
import dev.clutchcall.v1.wire.StructCodec;
import dev.clutchcall.v1.wire.WireRegistry;
import dev.clutchcall.v1.wire.WireStruct;
import dev.clutchcall.v1.wire.WireWriter;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

public final class Testee {
  /** Status 2: the op or the type is not known to this SDK. */
  static final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    Unsupported(String message) {
      super(message);
    }
  }

  private Testee() {}

  static MessageCodec message(String name) throws Unsupported {
    MessageCodec c = Messages.BY_NAME.get(name);
    if (c == null) {
      throw new Unsupported("no message " + name);
    }
    return c;
  }

  /** {@code protocol.Struct?arg=true&...} -> (codec, args). */
  static StructCodec struct(String name, Map<String, Boolean> args) throws Unsupported {
    int q = name.indexOf('?');
    String qualified = q < 0 ? name : name.substring(0, q);
    if (q >= 0) {
      for (String pair : name.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq);
        args.put(key, eq >= 0 && pair.substring(eq + 1).equals("true"));
      }
    }
    StructCodec c = WireRegistry.STRUCTS.get(qualified);
    if (c == null) {
      throw new Unsupported("no wire struct " + qualified);
    }
    return c;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] handle(int op, String name, byte[] payload) throws Unsupported {
    switch (op) {
      case 1:
        return message(name).decode(payload).encode();
      case 2:
        return utf8(message(name).decode(payload).toJsonString());
      case 3:
        return message(name).fromJsonBytes(payload).encode();
      case 4:
      case 5:
      case 6:
        {
          Map<String, Boolean> args = new HashMap<>();
          StructCodec c = struct(name, args);
          if (op == 6) {
            WireStruct v = c.fromJson(Json.parse(payload));
            try {
              return c.encode(v, args);
            } catch (EncodeException e) {
              throw new DecodeException(DecodeException.Reason.INVALID_VALUE, e.getMessage());
            }
          }
          WireStruct v = c.decode(payload, args);
          return op == 4 ? c.encode(v, args) : utf8(Json.write(v.toJson()));
        }
      case 7:
        {
          if (payload.length < 4) {
            throw new IllegalArgumentException("op 7 needs a 4-byte chunk size");
          }
          long chunk =
              (payload[0] & 0xFFL)
                  | (payload[1] & 0xFFL) << 8
                  | (payload[2] & 0xFFL) << 16
                  | (payload[3] & 0xFFL) << 24;
          Supplier<StreamParser> make = WireRegistry.STREAMS.get(name);
          if (make == null) {
            throw new Unsupported("no stream " + name);
          }
          byte[] data = Arrays.copyOfRange(payload, 4, payload.length);
          StreamParser p = make.get();
          List<WireStruct> items = new ArrayList<>();
          int step = chunk == 0 || chunk > data.length ? Math.max(data.length, 1) : (int) chunk;
          for (int i = 0; i < data.length; i += step) {
            items.addAll(p.feedItems(data, i, Math.min(step, data.length - i)));
          }
          items.addAll(p.close());
          List<Object> out = new ArrayList<>();
          for (WireStruct s : items) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("struct", s.structName());
            m.put("value", s.toJson());
            out.add(m);
          }
          return utf8(Json.write(out));
        }
      case 8:
        return utf8(Long.toUnsignedString(WireWriter.decodeVarint(payload)));
      case 9:
        {
          BigInteger v;
          try {
            v = new BigInteger(new String(payload, StandardCharsets.US_ASCII).trim());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("op 9 needs an ASCII decimal");
          }
          if (v.signum() < 0 || v.bitLength() > 62) {
            throw new DecodeException(
                DecodeException.Reason.INVALID_VALUE, v + " is outside the QUIC varint range");
          }
          try {
            return WireWriter.encodeVarint(v.longValue());
          } catch (EncodeException e) {
            throw new DecodeException(DecodeException.Reason.INVALID_VALUE, e.getMessage());
          }
        }
      default:
        throw new Unsupported("unknown op " + op);
    }
  }

  static byte[] answer(byte[] req) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (req.length < 3) {
        throw new IllegalArgumentException("short request");
      }
      int op = req[0] & 0xFF;
      int nameLen = (req[1] & 0xFF) | (req[2] & 0xFF) << 8;
      if (3 + nameLen > req.length) {
        throw new IllegalArgumentException("type name past the end of the request");
      }
      String name = new String(req, 3, nameLen, StandardCharsets.UTF_8);
      byte[] payload = Arrays.copyOfRange(req, 3 + nameLen, req.length);
      byte[] result = handle(op, name, payload);
      out.write(0);
      out.writeBytes(result);
    } catch (DecodeException e) {
      out.reset();
      out.write(1);
      out.writeBytes(e.reason().wireName().getBytes(StandardCharsets.US_ASCII));
    } catch (Unsupported e) {
      out.reset();
      out.write(2);
      out.writeBytes(utf8(e.getMessage()));
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      // A bug in the SDK or the testee: report it and keep serving.
      StringWriter sw = new StringWriter();
      e.printStackTrace(new PrintWriter(sw));
      out.reset();
      out.write(3);
      out.writeBytes(utf8(sw.toString()));
    }
    return out.toByteArray();
  }

  public static void main(String[] argv) throws IOException {
    DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(System.in));
    OutputStream stdout = new java.io.BufferedOutputStream(System.out);
    byte[] header = new byte[4];
    while (true) {
      try {
        in.readFully(header);
      } catch (EOFException e) {
        break;
      }
      long n =
          (header[0] & 0xFFL)
              | (header[1] & 0xFFL) << 8
              | (header[2] & 0xFFL) << 16
              | (header[3] & 0xFFL) << 24;
      byte[] req = new byte[(int) n];
      try {
        in.readFully(req);
      } catch (EOFException e) {
        break;
      }
      byte[] resp = answer(req);
      int m = resp.length;
      stdout.write(new byte[] {(byte) m, (byte) (m >>> 8), (byte) (m >>> 16), (byte) (m >>> 24)});
      stdout.write(resp);
      stdout.flush();
    }
    stdout.flush();
  }
}
