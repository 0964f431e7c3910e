"""Runs a command on a pseudo-terminal and answers its questions, as a person would.

  pty_answer.py [--answer REGEX TEXT]... [--timeout S] -- COMMAND ARGS...

Each --answer waits (in order) until what the command wrote since the last answer
matches REGEX, then types TEXT and Enter. Prints everything the terminal showed (the
answers echoed) and exits with the command's status; 97 when a question never came
(the transcript says which), 98 when the command outlived the timeout.
"""
import os
import pty
import re
import select
import sys
import time


def main():
    args = sys.argv[1:]
    answers = []
    timeout = 30.0
    while args and args[0] != "--":
        if args[0] == "--answer" and len(args) >= 3:
            answers.append((re.compile(args[1]), args[2]))
            args = args[3:]
        elif args[0] == "--timeout" and len(args) >= 2:
            timeout = float(args[1])
            args = args[2:]
        else:
            sys.exit(__doc__)
    if not args[1:]:
        sys.exit(__doc__)
    cmd = args[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    since = 0  # where the text after the last answer starts
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.stdout.write(seen.decode(errors="replace"))
            print("\npty_answer: timed out")
            sys.exit(98)
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            seen += chunk
        if answers and answers[0][0].search(seen[since:].decode(errors="replace")):
            os.write(fd, answers[0][1].encode() + b"\r")
            answers.pop(0)
            since = len(seen)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors="replace"))
    if answers:
        print("\npty_answer: never asked: " + answers[0][0].pattern)
        sys.exit(97)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
