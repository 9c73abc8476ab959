"""What the tests share: the emulator handle and its seed."""
