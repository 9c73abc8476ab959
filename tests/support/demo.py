"""The ids of the emulator's demo seed (``pulumi_yc_websocket/emulator/demo_seed.json``) that
tests use, and what each one is."""

from __future__ import annotations

MOBILE_IPV4 = "EfKvQ47JSz6mjzNl3h9qBrAM"  # gateway A, iPhone, 203.0.113.42
DESKTOP_IPV6 = "AU4hJeXhnscm39jaerom3J-I"  # gateway A, Chrome on Windows, 8.75 min idle
BOT = "NiLePaCcdvStdLdl3dJ5R6rT"  # gateway B, Googlebot, 58 min old, 9 min idle
NO_USER_AGENT = "MiWH7AWbr9fxEbHBdI_iZCPh"  # gateway B, 192.0.2.201
CLOSED = "QNrys_mcvsLgIdBMyCrxvYf8"
GATEWAY_A = "d5dm1lba80md4pmj2qke"
GATEWAY_B = "d5d9kq2v7n3r8s6t4u1b"
