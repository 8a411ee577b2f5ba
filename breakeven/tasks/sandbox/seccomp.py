"""The seccomp filter of every sandboxed program: the system calls a Python solution never needs fail with
EPERM, everything else is allowed. Built with libseccomp (through ``pyseccomp``) as a BPF program that bubblewrap
loads (``--seccomp FD``) right before it starts the interpreter; calls from another ABI (32-bit x86) kill the
process."""

from __future__ import annotations

import errno
from functools import cache

DENIED = (
    # sockets: no endpoint of any family, not even a connected pair
    "socket", "socketpair",
    # other processes and the kernel's own state
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "open_by_handle_at", "name_to_handle_at",
    # the machine
    "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "swapon",
    "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "personality", "iopl", "ioperm", "modify_ldt", "vhangup", "uselib", "lookup_dcookie",
)  # fmt: skip
NEW_NAMESPACE_FLAGS = 0x7E020080
"""CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME: a clone() that asks for any of
them fails (threads and plain forks pass)."""
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
"""ioctls that push input into a terminal."""


@cache
def filter_bpf() -> bytes:
    """The filter as a BPF program (built once per process); ImportError or RuntimeError when pyseccomp or
    libseccomp is missing."""
    import tempfile

    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    denied = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) != -1:  # -1: unknown to this libseccomp
            rules.add_rule(denied, name)
    for bit in (1 << shift for shift in range(32) if NEW_NAMESPACE_FLAGS >> shift & 1):
        rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, bit, bit))
    for request in (TIOCSTI, TIOCLINUX):
        rules.add_rule(denied, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # flags hide behind a pointer: libc falls back to clone
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()
