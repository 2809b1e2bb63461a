"""pty_passwd.py ANSWER1 ANSWER2 COMMAND...: runs COMMAND on a pseudo-
terminal, types ANSWER1 and ANSWER2 (each with Enter) at its prompts, then
prints what the terminal showed and exits with COMMAND's status. For the
package_install test: `switchboard passwd` must prompt twice without echo."""
import os
import pty
import select
import sys
import time

answers = [a.encode() + b"\n" for a in sys.argv[1:3]]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
shown = b""


def read_until(needle, timeout):
    global shown
    end = time.time() + timeout
    while time.time() < end and needle not in shown:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                shown += os.read(fd, 4096)
            except OSError:
                return


read_until(b"password for", 10)
os.write(fd, answers[0])
read_until(b"Retype", 10)
os.write(fd, answers[1])
read_until(b"\x00never", 5)  # the rest, until the command closes the pty
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
