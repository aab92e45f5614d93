"""Publish 20 ms audio frames on voice/<sid>/uplink.

python publisher.py moqt://127.0.0.1:4443 "$(clutchcall-engine token --publish voice)" [CERT_SHA256] [FRAMES]
"""

import asyncio
import sys

from clutchcall import connect


async def main(url: str, token: str, cert_sha256: str = "", frames: str = "250") -> None:
    client = await connect(url, token, cert_sha256=cert_sha256 or None, insecure=not cert_sha256)
    writer = await client.publish(("voice", "CA1"), "uplink", capability="voice/pcmu")
    for i in range(int(frames)):
        writer.write(bytes([i % 256]) * 160)  # one 20 ms G.711 frame; a new group every 50
        await asyncio.sleep(0.02)
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
