"""Entry point of the frozen studio. A frozen app has no Python to run `-m` with, so its one executable is also the
engine process (`--engine-process`, spawned by engine.api.transport.LocalEngine) and the `istar` command
(`--istar ...`, run by the first-run wizard to install models)."""

import sys


def main() -> int:
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role == "--engine-process":
        from engine.service.engine_main import main as engine_main

        engine_main()
        return 0
    if role == "--istar":
        from engine.cli.main import main as istar_main

        sys.stdout.reconfigure(line_buffering=True)  # the wizard shows each line as it comes, even into a pipe
        sys.argv = ["istar", *sys.argv[2:]]
        return istar_main(sys.argv[1:])
    from desktop.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
