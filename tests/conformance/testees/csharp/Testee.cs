// The C# conformance testee (tests/conformance/PROTOCOL.md): reads length-prefixed requests on
// stdin, answers each on stdout through the generated SDK's by-name registries.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using ClutchCall.V1;
using ClutchCall.V1.Wire;

internal static class Testee
{
    private sealed class Unsupported : Exception
    {
        public Unsupported(string message) : base(message)
        {
        }
    }

    private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

    private static bool ReadExactly(Stream s, byte[] buf, int n)
    {
        int got = 0;
        while (got < n)
        {
            int r = s.Read(buf, got, n - got);
            if (r <= 0)
            {
                return false;
            }
            got += r;
        }
        return true;
    }

    private static int Main()
    {
        Stream stdin = Console.OpenStandardInput();
        Stream stdout = Console.OpenStandardOutput();
        var head = new byte[4];
        while (ReadExactly(stdin, head, 4))
        {
            int n = BitConverter.ToInt32(head, 0);
            var req = new byte[n];
            if (!ReadExactly(stdin, req, n))
            {
                Console.Error.WriteLine("testee: truncated request");
                return 1;
            }
            byte[] resp = Handle(req);
            stdout.Write(BitConverter.GetBytes(resp.Length), 0, 4);
            stdout.Write(resp, 0, resp.Length);
            stdout.Flush();
        }
        return 0;
    }

    private static byte[] Answer(byte status, byte[] body)
    {
        var r = new byte[body.Length + 1];
        r[0] = status;
        Buffer.BlockCopy(body, 0, r, 1, body.Length);
        return r;
    }

    private static byte[] Handle(byte[] req)
    {
        try
        {
            if (req.Length < 3)
            {
                throw new Unsupported("short request");
            }
            int op = req[0];
            int len = req[1] | (req[2] << 8);
            if (3 + len > req.Length)
            {
                throw new Unsupported("type name past the end of the request");
            }
            string type = Encoding.UTF8.GetString(req, 3, len);
            var payload = new byte[req.Length - 3 - len];
            Buffer.BlockCopy(req, 3 + len, payload, 0, payload.Length);
            return Answer(0, Run(op, type, payload));
        }
        catch (DecodeException e)
        {
            return Answer(1, Encoding.ASCII.GetBytes(e.ReasonName));
        }
        catch (Unsupported e)
        {
            return Answer(2, Encoding.UTF8.GetBytes(e.Message));
        }
        catch (Exception e)
        {
            return Answer(3, Encoding.UTF8.GetBytes(e.ToString()));
        }
    }

    private static Message NewMessage(string type)
    {
        Message m = Messages.New(type);
        if (m == null)
        {
            throw new Unsupported("no message " + type);
        }
        return m;
    }

    private static WireStruct Struct(string type, out Dictionary<string, bool> args)
    {
        args = null;
        int q = type.IndexOf('?');
        string name = q < 0 ? type : type.Substring(0, q);
        WireStruct s = WireRegistry.Struct(name);
        if (s == null)
        {
            throw new Unsupported("no wire struct " + name);
        }
        if (q >= 0)
        {
            args = new Dictionary<string, bool>();
            foreach (string pair in type.Substring(q + 1).Split('&'))
            {
                int eq = pair.IndexOf('=');
                if (eq < 0)
                {
                    throw new Unsupported("bad arg " + pair);
                }
                args[pair.Substring(0, eq)] = pair.Substring(eq + 1) == "true";
            }
        }
        return s;
    }

    private static DecodeException Invalid(DecodeErrorReason reason, string message)
    {
        return new DecodeException(reason, message);
    }

    private static string Text(byte[] payload)
    {
        try
        {
            return Utf8.GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(DecodeErrorReason.InvalidJson, "the JSON text is not UTF-8");
        }
    }

    private static byte[] Run(int op, string type, byte[] payload)
    {
        Dictionary<string, bool> args;
        switch (op)
        {
            case 1:
            {
                Message m = NewMessage(type);
                m.MergeFrom(payload);
                return m.Encode();
            }
            case 2:
            {
                Message m = NewMessage(type);
                m.MergeFrom(payload);
                return Utf8.GetBytes(m.ToJson());
            }
            case 3:
            {
                Message m = NewMessage(type);
                m.MergeJson(Text(payload), false);
                try
                {
                    return m.Encode();
                }
                catch (EncodeException e)
                {
                    throw Invalid(DecodeErrorReason.InvalidJson, e.Message);
                }
            }
            case 4:
            {
                WireStruct s = Struct(type, out args);
                return WireCodec.Decode(s, payload, args).Encode(args);
            }
            case 5:
            {
                WireStruct s = Struct(type, out args);
                return Utf8.GetBytes(WireCodec.Decode(s, payload, args).ToJson());
            }
            case 6:
            {
                WireStruct s = Struct(type, out args);
                WireRecord rec = WireCodec.FromJson(s, Json.Parse(Text(payload)));
                try
                {
                    return rec.Encode(args);
                }
                catch (EncodeException e)
                {
                    throw Invalid(DecodeErrorReason.InvalidValue, e.Message);
                }
            }
            case 7:
                return Stream(type, payload);
            case 8:
                if (type != "quic")
                {
                    throw new Unsupported("no varint " + type);
                }
                return Encoding.ASCII.GetBytes(Quic.DecodeVarint(payload).ToString(CultureInfo.InvariantCulture));
            case 9:
            {
                if (type != "quic")
                {
                    throw new Unsupported("no varint " + type);
                }
                ulong v;
                if (!ulong.TryParse(Encoding.ASCII.GetString(payload), NumberStyles.None, CultureInfo.InvariantCulture, out v))
                {
                    throw Invalid(DecodeErrorReason.InvalidValue, "not a 64-bit unsigned decimal");
                }
                try
                {
                    return Quic.EncodeVarint(v);
                }
                catch (EncodeException e)
                {
                    throw Invalid(DecodeErrorReason.InvalidValue, e.Message);
                }
            }
            default:
                throw new Unsupported("unsupported op " + op);
        }
    }

    private static byte[] Stream(string type, byte[] payload)
    {
        StreamParser p = WireRegistry.NewParser(type);
        if (p == null)
        {
            throw new Unsupported("no stream " + type);
        }
        if (payload.Length < 4)
        {
            throw new Unsupported("op 7 needs a 4-byte chunk size");
        }
        int chunk = BitConverter.ToInt32(payload, 0);
        int n = payload.Length - 4;
        var items = new List<WireItem>();
        if (chunk <= 0)
        {
            items.AddRange(p.Feed(payload, 4, n));
        }
        else
        {
            for (int i = 0; i < n; i += chunk)
            {
                items.AddRange(p.Feed(payload, 4 + i, Math.Min(chunk, n - i)));
            }
        }
        items.AddRange(p.Close());
        var list = new List<object>();
        foreach (var it in items)
        {
            var o = new JsonObject();
            o.Set("struct", it.Struct);
            o.Set("value", it.Value.ToJsonValue());
            list.Add(o);
        }
        return Utf8.GetBytes(Json.Write(list));
    }
}
