// Benchmark (C#): encode and decode of one realistic Call (the values of
// benchmarks/bench_python_codec.py / make_dto_vectors.realistic_call(i=0)) and of a MoQT
// SubgroupHeader plus one 160-byte object, with the generated ClutchCall.Sdk. The official
// runtime (Google.Protobuf) comes only from NuGet, which this machine cannot reach, so only
// our numbers are reported. Each figure is the best of 7 rounds, in ns per operation.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using ClutchCall.V1;
using ClutchCall.V1.Wire;
using ClutchCall.V1.Wire.MoqtD14;

internal static class Bench
{
    private static Call RealisticCall()
    {
        string sid = "CA9f3b2c1d4e5f60718293a4b5c6d7e8f9";
        var call = new Call
        {
            Sid = sid,
            Status = CallStatus.InProgress,
            Direction = Direction.Outbound,
            From = "+14155550100",
            To = "+442071838700",
            DefaultApp = DefaultApp.AiBidirectionalStream,
            UplinkTrack = "voice/" + sid + "/uplink",
            DownlinkTrack = "voice/" + sid + "/downlink",
            CreatedAtMs = 1767225600123,
            AnsweredAtMs = 1767225604870,
            TenantId = "tn_acme_prod",
            Agent = new AgentBinding
            {
                AgentId = "agt_support_en",
                Instructions = "Greet the caller by name, confirm the order number, then offer a callback.",
                TurnDetection = new TurnDetection
                {
                    Mode = TurnDetectionMode.Semantic,
                    Vad = new VadSettings { Threshold = 0.6f, PrefixPaddingMs = 300, SilenceDurationMs = 700 },
                    BargeIn = new BargeIn { Enabled = true, MinSpeechMs = 200 },
                },
            },
            Audio = new AudioShape { Codec = Codec.Pcm16, SampleRate = 16000, Channels = 1, FrameMs = 20 },
            Quality = new CallQuality
            {
                Ssrc = 0x5EED0000,
                PacketsSent = 4821,
                PacketsReceived = 4790,
                CumulativeLost = -2,
                JitterMs = 3.25f,
                Mos = 4.31,
                LastSrNtp = 0xE9A1B2C380000000UL,
                ClockSkewPpm = -12,
                PlayoutOffsetUs = 60000,
                LateLoss = 3,
                JitterBufferDepth = 3,
            },
        };
        call.Agent.Metadata.Add(new KeyValue { Key = "crm_id", Value = "00Q0000000" });
        call.Agent.Metadata.Add(new KeyValue { Key = "lang", Value = "en-GB" });
        call.Quality.LevelDbov.AddRange(new[] { -32, -28, -30, -127, -25 });
        return call;
    }

    private static double Measure(Action action)
    {
        int n = 1000;
        var sw = Stopwatch.StartNew();
        while (true)
        {
            sw.Restart();
            for (int i = 0; i < n; i++)
            {
                action();
            }
            if (sw.ElapsedMilliseconds > 100)
            {
                break;
            }
            n *= 4;
        }
        double best = double.MaxValue;
        for (int round = 0; round < 7; round++)
        {
            sw.Restart();
            for (int i = 0; i < n; i++)
            {
                action();
            }
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds * 1e6 / n);
        }
        return best;
    }

    private static int Main()
    {
        Call call = RealisticCall();
        byte[] callBytes = call.Encode();
        if (Call.Decode(callBytes).Encode().Length != callBytes.Length)
        {
            Console.Error.WriteLine("round trip mismatch");
            return 1;
        }
        var header = new SubgroupHeader { Type = 0x14, TrackAlias = 2, GroupId = 7, SubgroupId = 0, PublisherPriority = 128 };
        var payload = new byte[160];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = 0xD5;
        }
        var obj = new SubgroupObject { ObjectIdDelta = 0, PayloadLength = 160, Payload = payload };
        var args = new Dictionary<string, bool> { { "has_extensions", false } };
        byte[] headerBytes = header.Encode();
        byte[] objBytes = obj.Encode(args);

        Console.WriteLine("C# benchmark: Mono " + Environment.Version + ", Call = " + callBytes.Length + " bytes, MoQT header+object = " + (headerBytes.Length + objBytes.Length) + " bytes");
        Console.WriteLine("official runtime (Google.Protobuf): not available (NuGet only; not in Debian), so no ratio");
        Console.WriteLine(string.Format("{0,-34} {1,12}", "case", "ours ns/op"));
        Report("Call encode", Measure(() => call.Encode()));
        Report("Call decode", Measure(() => Call.Decode(callBytes)));
        Report("MoQT SubgroupHeader+object encode", Measure(() =>
        {
            header.Encode();
            obj.Encode(args);
        }));
        Report("MoQT SubgroupHeader+object decode", Measure(() =>
        {
            SubgroupHeader.Decode(headerBytes);
            SubgroupObject.Decode(objBytes, args);
        }));
        return 0;
    }

    private static void Report(string name, double ns)
    {
        Console.WriteLine(string.Format("{0,-34} {1,12:F0}", name, ns));
    }
}
