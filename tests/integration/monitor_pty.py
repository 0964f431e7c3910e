"""espgang monitor on a real terminal: a pseudo-terminal that is the monitor's standard
input, output and error and its controlling terminal, as a shell's would be.

    monitor_pty.py SCENARIO ESPGANG PORT ELF SIMLOG [SIMPID]

Scenarios:
  keys      interactive: the commands header, the terminal raw while it runs (no echo,
            no line editing, no signals from keys), typed keys reach the board (espsim's
            log), Ctrl-R resets the board (a new boot in the log and on the screen),
            Ctrl-C ends it (exit 0), the terminal as it was (stty -g) after.
  sigterm   interactive, ended by SIGTERM: exit 0, the terminal as it was.
  unplug    interactive, the board (espsim, SIMPID) killed: exit 1, the port named,
            the terminal as it was.
  cooked    --non-interactive on a terminal: the terminal is left as it is, nothing
            typed reaches the board, Ctrl-C is the terminal's SIGINT: exit 0.
Prints what it checked; exits 1 at the first failure, showing the screen."""

import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time

scenario, espgang, port, elf, simlog = sys.argv[1:6]
simpid = int(sys.argv[6]) if len(sys.argv) > 6 else 0

master, slave = os.openpty()
tty = os.ttyname(slave)
screen = b""


def fail(why):
    sys.stdout.write("FAIL: %s\n--- screen ---\n%s\n--- espsim log (tail) ---\n%s\n"
                     % (why, screen.decode(errors="replace")[-3000:], log()[-1500:]))
    sys.exit(1)


def log():
    try:
        with open(simlog) as f:
            return f.read()
    except OSError:
        return ""


def stty():
    return subprocess.run(["stty", "-g", "-F", tty], capture_output=True, text=True).stdout.strip()


def read_until(pattern, timeout, start=0):
    """Reads the screen until pattern (a regex on the text after start) shows."""
    global screen
    end = time.monotonic() + timeout
    while True:
        if re.search(pattern, screen[start:].decode(errors="replace")):
            return
        left = end - time.monotonic()
        if left <= 0:
            fail("no /%s/ on the screen within %s s" % (pattern, timeout))
        r, _, _ = select.select([master], [], [], min(left, 0.2))
        if r:
            try:
                screen += os.read(master, 65536)
            except OSError:
                fail("the terminal closed before /%s/ showed" % pattern)


def drain(seconds):
    global screen
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                screen += os.read(master, 65536)
            except OSError:
                return


def wait_log(pattern, timeout, after=0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if re.search(pattern, log()[after:], re.M):
            return
        time.sleep(0.05)
    fail("espsim's log has no /%s/ within %s s" % (pattern, timeout))


def received(after):
    """What the board got from the client since log offset after, pieces joined."""
    return "".join(re.findall(r"app: \d+ bytes from the client: (.*)$", log()[after:], re.M))


def wait_exit(p, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rc = p.poll()
        if rc is not None:
            drain(0.2)
            return rc
        drain(0.05)
    p.kill()
    fail("the monitor did not end within %s s" % timeout)


def controlling_tty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


before = stty()
args = [espgang, "monitor", "--port", port, "--elf", elf]
if scenario == "cooked":
    args.append("--non-interactive")
p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_tty)
t0 = time.monotonic()

if scenario != "cooked":
    read_until(r"CTRL\+R\s+Reset chip", 10)
read_until(r"Counter: 1\r?\n", 15)
attrs = termios.tcgetattr(slave)
lflag = attrs[3]
raw = not (lflag & (termios.ICANON | termios.ECHO | termios.ISIG))
if scenario == "cooked":
    if stty() != before or raw:
        fail("--non-interactive changed the terminal: %s, was %s" % (stty(), before))
    print("--non-interactive: the terminal left as it was (%s)" % before)
    n_log = len(log())
    os.write(master, b"typed\r")
    drain(0.5)
    if "bytes from the client" in log()[n_log:]:
        fail("--non-interactive sent keystrokes to the board")
    print("--non-interactive: nothing typed reached the board")
    os.write(master, b"\x03")  # the terminal's interrupt character: SIGINT
    rc = wait_exit(p, 5)
    if rc != 0:
        fail("Ctrl-C (SIGINT) ended it with exit %d, expected 0" % rc)
    print("Ctrl-C on a cooked terminal: SIGINT, exit 0")
    sys.exit(0)

if not raw:
    fail("the terminal is not raw while the monitor runs (lflag 0x%x)" % lflag)
if not (attrs[1] & termios.OPOST):
    fail("output processing was turned off: lines would not start at the left")
print("raw while running (%.1f s to the app's counter)" % (time.monotonic() - t0))

if scenario == "keys":
    n_log = len(log())
    os.write(master, b"hi\r")
    end = time.monotonic() + 5
    while received(n_log) != "hi\\x0d":
        if time.monotonic() > end:
            fail("typed 'hi' and Enter: the board got '%s'" % received(n_log))
        time.sleep(0.05)
    print("typed keys reach the board as typed (hi, CR)")
    boots = log().count("reset: rst:0x1 (POWERON): booting from flash")
    n_screen = len(screen)
    os.write(master, b"\x12")
    wait_log(r"EN low: held in reset", 5, n_log)
    end = time.monotonic() + 5
    while log().count("reset: rst:0x1 (POWERON): booting from flash") <= boots:
        if time.monotonic() > end:
            fail("Ctrl-R: no new boot in espsim's log")
        time.sleep(0.05)
    read_until(r"rst:0x1 \(POWERON\),boot:0x[0-9a-f]+ \(SPI_FAST_FLASH_BOOT\)[\s\S]*Hello world!",
               10, n_screen)
    if received(n_log) != "hi\\x0d":
        fail("Ctrl-R was also sent to the board: it got '%s'" % received(n_log))
    print("Ctrl-R: the board reset through EN and booted again, on the screen too")
    os.write(master, b"\x03")
    rc = wait_exit(p, 5)
    if rc != 0:
        fail("Ctrl-C: exit %d, expected 0" % rc)
    print("Ctrl-C: exit 0")
elif scenario == "sigterm":
    p.send_signal(signal.SIGTERM)
    rc = wait_exit(p, 5)
    if rc != 0:
        fail("SIGTERM: exit %d, expected 0" % rc)
    print("SIGTERM: exit 0")
elif scenario == "unplug":
    os.kill(simpid, signal.SIGKILL)
    rc = wait_exit(p, 5)
    if rc != 1:
        fail("the board gone: exit %d, expected 1" % rc)
    text = screen.decode(errors="replace")
    m = re.search(r"espgang: error: port '%s': [^\r\n]*the monitor ends" % re.escape(port), text)
    if not m:
        fail("no error naming the port")
    print("the board gone: exit 1 with '%s'" % m.group(0))
else:
    fail("unknown scenario " + scenario)

after = stty()
if after != before:
    fail("the terminal was not restored: stty -g %s, was %s" % (after, before))
print("the terminal restored (stty -g %s)" % after)
