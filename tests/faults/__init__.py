"""The fault suite: the app and `rt-tui send` against a hostile server and the simulator's fault modes."""
