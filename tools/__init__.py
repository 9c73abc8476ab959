"""Developer tools of this repository (not shipped): the real Pulumi CLI, built from Pulumi's Go
modules (``make pulumi-cli``), and a driver that runs it offline on Python projects."""
