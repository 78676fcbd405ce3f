"""Command line: ``rfconsole [--workdir DIR] [--connect URI | --demo] COMMAND …``.

rftest2 calls the CLI in loops, so a command pays only for itself: each command group has a
parser module ``<group>_args.py`` whose ``register(commands)`` adds its commands to a
``Commands`` table (name, summary, the function that adds its arguments, and its
implementation as ``"rfconsole.cli.<group>_cmd:function"``). A command's parser is built only
when that command is chosen, and its implementation, a function ``(args) -> int``, is imported
only when it runs: ``rfconsole --help`` and every ``COMMAND --help`` import no Textual, libvirt,
lxml or pydantic (tests/unit/test_startup.py). See docs/architecture.md, "Adding a command".
With no command the console opens. Exit codes: 0 ok, 1 invalid input or a failed operation, 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rfconsole import __version__
from rfconsole.errors import RfconsoleError, UsageError

TYPE_CHECKING = False  # as typing's, which type checkers know by name; importing typing costs `--help` milliseconds
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# The parser modules of the command groups, in the order of `rfconsole --help`.
COMMAND_GROUPS = ("xml_args", "image_args", "vm_args", "console_args", "details_args", "snapshot_args", "clone_args", "migrate_args", "watch_args", "top_args", "events_args", "map_args", "serve_args")


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter at the width it would pick itself (shutil.get_terminal_size's rules),
    without importing shutil, which loads the compression modules: a tenth of `rfconsole --help`."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ is not None else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return argparse.HelpFormatter(prog, width=(columns or 80) - 2)


def subcommands(parser: argparse.ArgumentParser, **kwargs: Any) -> Commands:
    """``parser``'s table of subcommands (a ``Commands``, as every parser of rfconsole makes)."""
    commands = parser.add_subparsers(**kwargs)
    assert isinstance(commands, Commands)
    return commands


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(*args, **kwargs)
        self.commands: Commands | None = None  # its subcommands, when it has some

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Subcommands are always a lazy ``Commands`` table, found again as ``parser.commands``."""
        kwargs.setdefault("action", Commands)
        kwargs.setdefault("parser_class", _Parser)
        commands = super().add_subparsers(**kwargs)
        assert isinstance(commands, Commands)
        self.commands = commands
        return commands

    def error(self, message: str) -> NoReturn:  # argparse's own exits with 2 as well; keep its wording
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class Commands(argparse.Action):
    """A parser's subcommands, each parser built only when its command is chosen (or asked for
    with ``parser(name)``): ``rfconsole --help`` lists names and summaries and builds none.

    An argparse Action of its own (argparse's subparsers action is private): ``choices`` maps
    each name to its parser, None until built; argparse's help formatter lists the commands
    through ``_get_subactions``, the hook it looks for."""

    def __init__(
        self, option_strings: list[str], prog: str, parser_class: type[argparse.ArgumentParser],
        dest: str = argparse.SUPPRESS, required: bool = False, help: str | None = None, metavar: str | None = None,
    ) -> None:
        self.choices: dict[str, argparse.ArgumentParser | None] = {}
        super().__init__(option_strings=option_strings, dest=dest, nargs=argparse.PARSER, choices=self.choices,
                         required=required, help=help, metavar=metavar)
        self.prog_prefix = prog
        self.parser_class = parser_class
        self.listed: list[argparse.Action] = []  # one line of `--help` per command
        self._pending: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None] | None, str | None, str | None, dict[str, Any]]] = {}

    def add(
        self,
        name: str,
        summary: str,
        arguments: Callable[[argparse.ArgumentParser], None] | None = None,
        run: str | None = None,
        description: str | None = None,
        **defaults: Any,
    ) -> None:
        """Command ``name``: ``arguments(parser)`` adds its arguments (argparse and light constants
        only; subcommands with ``parser.add_subparsers(…)``, a Commands table too); ``run`` names its
        implementation, ``"rfconsole.cli.<group>_cmd:function"``; ``defaults`` go on the parser."""
        if name in self.choices:
            raise ValueError(f"two commands called {name!r}")
        self.listed.append(argparse.Action(option_strings=[], dest=name, help=summary, metavar=name))
        self.choices[name] = None  # a valid choice now; the parser comes in parser(name)
        self._pending[name] = (summary, arguments, run, description, defaults)

    def _get_subactions(self) -> list[argparse.Action]:
        return self.listed

    def parser(self, name: str) -> argparse.ArgumentParser:
        """The parser of command ``name``, built now if it was not yet."""
        if name in self._pending:
            summary, arguments, run, description, defaults = self._pending.pop(name)
            parser = self.parser_class(prog=f"{self.prog_prefix} {name}", description=description or summary[0].upper() + summary[1:] + ".")
            if arguments is not None:
                arguments(parser)
            parser.set_defaults(**({"run": run} if run else {}), **defaults)
            self.choices[name] = parser
        found = self.choices[name]
        assert found is not None
        return found

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        name, arguments = values[0], values[1:]
        if self.dest is not argparse.SUPPRESS:
            setattr(namespace, self.dest, name)
        chosen, left = self.parser(name).parse_known_args(arguments, None)
        for key, value in vars(chosen).items():
            setattr(namespace, key, value)
        if left:  # argparse's own name for what no parser recognised: the top parser reports them
            vars(namespace).setdefault("_unrecognized_args", []).extend(left)


def seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number of seconds from ``low`` to ``high``; anything else (a word, nan,
    inf, a negative) is refused in words naming the range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not low <= value <= high:  # nan fails every comparison
            raise argparse.ArgumentTypeError(f"{text!r}: give {low:g} to {high:g} seconds")
        return value

    return parse


def add_routeflow_rows_options(parser: argparse.ArgumentParser, vm: str) -> None:
    """--routeflow-config and --datapath-id of the commands that make a VM (xml new, clone)."""
    parser.add_argument(
        "--routeflow-config",
        metavar="CSV",
        help=f"RouteFlow's CSV (vm_id,vm_port,ct_id,dp_id,dp_port): append {vm}'s rows (data NIC k on port k of "
        "its switch), so `rfconsole watch` boots it when that switch connects; created if missing",
    )
    parser.add_argument("--datapath-id", metavar="ID", help=f"with --routeflow-config: {vm}'s switch (decimal, or hex with 0x); default: rftest2's naming's (rfvmE -> 9)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rfconsole",
        description="Set up and boot RouteFlow's VMs (rftest2's rfvmA–rfvmD and others) "
        "on KVM, QEMU or LXC through libvirt. With no command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"rfconsole {__version__}")
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="folder holding XML/ (domain XML) and Images/ (OS images); default: the current directory",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--connect", metavar="URI", help="libvirt URI of the host to use (e.g. qemu:///system)")
    target.add_argument(
        "--demo",
        action="store_true",
        help="use the embedded demo: libvirt's test driver holding rftest2's four VMs, no daemon needed",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open every host through libvirt's read-only connection: see, change nothing (the console offers no "
        "changing key; a changing command is refused)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_GROUPS:
        importlib.import_module(f"rfconsole.cli.{name}").register(commands)
    return parser


def every_command(parser: argparse.ArgumentParser | None = None, words: tuple[str, ...] = ()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every runnable command by its words (("xml", "new"), ("redeploy",) …) with its parser, all
    built now: for tests and documentation, which want them all."""
    parser = parser or build_parser()
    commands = getattr(parser, "commands", None)
    if commands is not None:
        return {found: sub for word in list(commands.choices) for found, sub in every_command(commands.parser(word), (*words, word)).items()}
    return {words: parser} if words else {}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line as parsed; ``args.workdir`` is a Path (default: the current directory)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.connect is not None:
        from rfconsole.model.text import (
            text_problem,  # libvirt's open raised on invalid UTF-8
        )

        problem = text_problem(args.connect, "the URI")
        if problem:
            parser.error(f"argument --connect: {problem} (given: {args.connect!r})")
    from pathlib import Path  # not before: `--help` does without

    args.workdir = Path(args.workdir) if args.workdir else Path.cwd()
    return args


def implementation(run: str) -> Callable[[argparse.Namespace], int]:
    """The function a parser names as ``"package.module:function"``, imported now."""
    module, _, function = run.partition(":")
    return getattr(importlib.import_module(module), function)


def report(error: RfconsoleError) -> None:
    print(f"rfconsole: error: {error.message}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {error.hint}", file=sys.stderr)


EXIT_BROKEN_PIPE = 141  # as a shell reports a command killed by SIGPIPE: the reader went away


class GuardedOutput:
    """Standard output or standard error that never raises into a command: the first failed
    write (a reader that went away, a full disk, a closed descriptor) is remembered and the rest
    is dropped, so the operation itself goes on to its end (an `up` whose pipe broke still starts
    every VM); ``main`` then reports the failure once. ``stream`` None: the descriptor was closed
    when rfconsole started (`>&-`), which is a failure only once something is to be written."""

    def __init__(self, stream: Any, name: str) -> None:
        self.stream = stream
        self.name = name
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if self.error is None and text:
            if self.stream is None:
                import errno

                self.error = OSError(errno.EBADF, f"{self.name} is closed")
                return len(text)
            try:
                return self.stream.write(text)
            except UnicodeEncodeError:  # a character the stream's encoding lacks (a path's invalid UTF-8, – in ASCII)
                return self.write(text.encode(self.stream.encoding, "backslashreplace").decode(self.stream.encoding))
            except OSError as error:
                self.record_failure(error)
        return len(text)

    def flush(self) -> None:
        if self.error is None and self.stream is not None:
            try:
                self.stream.flush()
            except OSError as error:
                self.record_failure(error)

    def isatty(self) -> bool:
        return self.stream is not None and self.error is None and self.stream.isatty()

    def record_failure(self, error: OSError) -> None:
        self.error = error
        try:  # what is still buffered must not fail again at exit: the descriptor now writes nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> Any:  # fileno, encoding … as the stream has them
        if self.stream is None:
            raise AttributeError(name)
        return getattr(self.stream, name)


def output_failed(error: OSError) -> None:
    """Output a command wrote to descriptor 1 itself (the console's relay) could not be written:
    ``main`` reports it as it reports a failed ``print``."""
    if isinstance(sys.stdout, GuardedOutput) and sys.stdout.error is None:
        sys.stdout.record_failure(error)


def output_lost() -> bool:
    """Whether standard output could not be written: a command whose product is its output
    (``status --watch``) stops then."""
    return isinstance(sys.stdout, GuardedOutput) and sys.stdout.error is not None


def _exit_code(code: int, output: GuardedOutput, messages: GuardedOutput) -> int:
    """The exit code after a command that returned ``code``: output that could not be written
    turns success into failure (141 when a reader went away, else 1) and, when standard error
    still works, a failure of standard output is said there in one line."""
    output.flush()
    messages.flush()
    errors = [stream.error for stream in (output, messages) if stream.error is not None]
    if not errors:
        return code
    import errno

    broken = any(error.errno == errno.EPIPE for error in errors)
    if output.error is not None:
        if output.error.errno == errno.EPIPE:
            said = "the reader of standard output went away (broken pipe); the rest of the output was dropped"
        else:
            said = f"cannot write to standard output: {output.error.strerror or output.error}; the rest of the output was dropped"
        messages.write(f"rfconsole: error: {said}\n")
        messages.flush()
    return code if code != EXIT_OK else EXIT_BROKEN_PIPE if broken else EXIT_FAILED


def _open_closed_standard_descriptors() -> None:
    """Descriptors 0, 1 and 2 that the caller closed (`>&-`) are opened on /dev/null: otherwise
    the next file or socket rfconsole opens takes the number, and what is written to standard
    output or error by number (the console's relay, libvirt's C code) lands in it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


class Terminated(BaseException):
    """SIGTERM arrived while a command ran: raised in the main thread, so that each operation's
    clean-up runs (temporary files removed, a qemu-img child killed) before rfconsole exits."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _terminate_again(hook: Any) -> None:
    """sys.unraisablehook while a command runs: a Terminated raised where Python cannot raise (the
    signal arrived inside a weakref callback or a ``__del__``, e.g. importlib's module-lock
    callback) was swallowed there, with a traceback, and the command ran on (once in 200 SIGTERMs
    of `image base`, bench/_image_kills.py). SIGTERM is sent to the main thread again from outside
    it, a moment later, so the command still ends as terminated; any other exception is printed as
    Python does."""
    if isinstance(hook.exc_value, Terminated):
        import signal
        import threading

        def resend() -> None:
            time.sleep(0.01)  # out of the callback by then; a callback again only repeats this
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)

        threading.Thread(target=resend, daemon=True).start()
        return
    sys.__unraisablehook__(hook)


@contextmanager
def _sigterm_ends_the_command() -> Iterator[None]:
    """SIGTERM raises Terminated in the main thread while the command runs."""
    import signal

    previous, previous_hook = signal.signal(signal.SIGTERM, _terminate), sys.unraisablehook
    sys.unraisablehook = _terminate_again
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``; its exit code. Standard output and error are guarded
    (GuardedOutput) for the whole command, its parsing (--help, --version) included."""
    _open_closed_standard_descriptors()
    real = sys.stdout, sys.stderr
    output = sys.stdout = GuardedOutput(real[0], "standard output")
    messages = sys.stderr = GuardedOutput(real[1], "standard error")
    try:
        try:
            args = parse_args(argv)
        except SystemExit as exit:  # --help, --version, a usage error: argparse's code, or an output failure's
            code = EXIT_OK if exit.code is None else exit.code if isinstance(exit.code, int) else EXIT_USAGE
            raise SystemExit(_exit_code(code, output, messages)) from None
        if args.command is None:
            sys.stdout, sys.stderr = real  # the console draws on the terminal itself
            from rfconsole.tui.launch import run_console

            return _run(lambda: run_console(args))
        with _sigterm_ends_the_command():
            return _exit_code(_run(lambda: implementation(args.run)(args)), output, messages)
    finally:
        sys.stdout, sys.stderr = real


def _run(command: Callable[[], int]) -> int:
    """``command()``'s exit code; a user-facing error reported on stderr in words."""
    try:
        return command()
    except UsageError as error:
        report(error)
        return EXIT_USAGE
    except RfconsoleError as error:
        report(error)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("rfconsole: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("rfconsole: terminated", file=sys.stderr)
        return 143  # 128 + SIGTERM
