"""Chat over WebSocket (chat-protocol.md): protocol, listeners, sessions, rooms, storage."""
