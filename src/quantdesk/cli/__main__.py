"""``python -m quantdesk.cli``."""

from quantdesk.cli import main

main()
