"""The SIP gateway (B2BUA): RFC 3261 messages and transactions, SDP offer/answer, RTP to MoQT."""
