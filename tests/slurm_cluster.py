"""A throw-away one-node Slurm cluster on loopback (Debian slurm-wlm + munge) with two fake GPUs, for testing
the Slurm profile. Everything it writes (config, keys, state, logs, sockets) lives in one scratch folder;
clients find it through ``SLURM_CONF``, so ``/etc/slurm`` is never read or changed. Needs root (slurmd).

The executor plugin's job step drops every ``SLURM_*`` variable before its nested ``srun``, so a job would
look for ``/etc/slurm/slurm.conf``; an ``srun`` shim first on ``PATH`` restores ``SLURM_CONF`` (on a real
cluster the config sits at that default place)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo", "mungekey")


def missing_requirement() -> str | None:
    """Why a cluster cannot be started here, or None."""
    missing = [name for name in CLIENTS if shutil.which(name) is None]
    missing += [name for name in DAEMONS if not Path(f"/usr/sbin/{name}").exists()]
    if missing:
        return f"Slurm is not installed (missing {', '.join(missing)}; apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "starting slurmd and munged needs root"
    return None


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


SLURM_CONF = """\
ClusterName=breakeven-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={scratch}/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation={scratch}/state
SlurmdSpoolDir={scratch}/spool
SlurmctldPidFile={scratch}/slurmctld.pid
SlurmdPidFile={scratch}/slurmd.pid
SlurmctldLogFile={scratch}/slurmctld.log
SlurmdLogFile={scratch}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=3600
ReturnToService=2
SlurmdParameters=config_overrides
GresTypes=gpu
NodeName={node} NodeAddr=127.0.0.1 CPUs=16 RealMemory=200000 Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes={node} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={node} MaxTime=INFINITE State=UP
"""
# SlurmdParameters=config_overrides: the node advertises the configured 16 CPUs and 200 GB (this machine has
# fewer), so the profile's real per-rule requests are accepted unchanged; nothing enforces them (task/none).


class SlurmCluster:
    """Start with :meth:`start`, stop with :meth:`stop` (kills exactly the daemons it started, by PID)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.node = socket.gethostname().split(".")[0]
        self.conf = scratch / "slurm.conf"
        shims = scratch / "bin"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf), "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
        self._pid_files = [scratch / "munge" / "munged.pid", scratch / "slurmctld.pid", scratch / "slurmd.pid"]

    def start(self, timeout: float = 60) -> None:
        self._start_munge()
        self._write_config()
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([f"/usr/sbin/{daemon}", "-f", str(self.conf)], env=self.env, check=True, timeout=30)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run("sinfo", "-h", "-o", "%T", check=False).stdout.split()
            if state and all(s == "idle" for s in state):
                return
            time.sleep(1)
        raise RuntimeError(f"the test cluster did not become idle: {state}\n{self.logs()}")

    def _start_munge(self) -> None:
        munge = self.scratch / "munge"
        munge.mkdir(parents=True)
        munge.chmod(0o755)  # munged wants its socket folder searchable by all
        key = munge / "munge.key"
        subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True, timeout=30)
        key.chmod(0o400)
        # as root: pytest's scratch folders are private to root, so the munge user could not reach them
        subprocess.run(
            [
                "/usr/sbin/munged", "--force",
                f"--key-file={key}", f"--socket={munge / 'munge.socket'}", f"--pid-file={munge / 'munged.pid'}",
                f"--log-file={munge / 'munged.log'}", f"--seed-file={munge / 'munged.seed'}",
            ],
            check=True,
            timeout=30,
        )  # fmt: skip

    def _write_config(self) -> None:
        for folder in ("state", "spool", "fakedev", "bin"):
            (self.scratch / folder).mkdir()
        srun = self.scratch / "bin" / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        srun.chmod(0o755)
        # Slurm wants a device file per GPU; /dev/null stands in (CUDA_VISIBLE_DEVICES is still set per job)
        for index in range(2):
            (self.scratch / "fakedev" / f"nvidia{index}").symlink_to("/dev/null")
        ctld_port, slurmd_port = _free_ports(2)
        self.conf.write_text(
            SLURM_CONF.format(node=self.node, scratch=self.scratch, ctld_port=ctld_port, slurmd_port=slurmd_port)
        )
        (self.scratch / "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={self.node} Name=gpu File={self.scratch}/fakedev/nvidia[0-1]\n"
        )

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld remembers (MinJobAge keeps finished ones for an hour), as key=value dicts."""
        lines = self.run("scontrol", "show", "job", "-o").stdout.splitlines()
        return [dict(field.split("=", 1) for field in line.split() if "=" in field) for line in lines if "=" in line]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}"
            for path in (self.scratch / "slurmctld.log", self.scratch / "slurmd.log")
            if path.exists()
        )

    def stop(self) -> None:
        for pid_file in reversed(self._pid_files):
            if not pid_file.exists():
                continue
            pid = int(pid_file.read_text().split()[0])
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
