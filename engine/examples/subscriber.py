"""Print the frames published on voice/CA1/uplink (waits for the publisher if it is not there yet).

python subscriber.py moqt://127.0.0.1:4443 "$(clutchcall-engine token --subscribe voice)" [CERT_SHA256] [FRAMES]
"""

import asyncio
import sys

from clutchcall import connect


async def main(url: str, token: str, cert_sha256: str = "", frames: str = "250") -> None:
    client = await connect(url, token, cert_sha256=cert_sha256 or None, insecure=not cert_sha256)
    received = 0
    async for frame in await client.subscribe(("voice", "CA1"), "uplink"):
        print(frame.group, frame.object_id, frame.capability, len(frame.payload), flush=True)
        received += 1
        if received == int(frames):
            break
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
