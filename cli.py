"""`python cli.py run ...` is the same as `zjsim run ...`."""

from sim.cli import main

if __name__ == "__main__":
    main()
