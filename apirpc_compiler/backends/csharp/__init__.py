"""The C# target (`--target csharp`); importing `backend` registers it."""
