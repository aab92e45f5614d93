"""The Calls control plane: the call store, the service logic and the port to the SIP gateway."""
