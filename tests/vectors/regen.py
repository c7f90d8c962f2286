"""Regenerate the golden .eml files with a given smtpcore CLI (only after a deliberate output change)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vector_cli  # noqa: E402


def main(cli):
    for v in vector_cli.load_all():
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([cli] + vector_cli.cli_args(v, tmp), capture_output=True)
        if r.returncode != 0:
            sys.exit("%s: %s" % (v["name"], r.stderr.decode()))
        with open(vector_cli.expected_path(v), "wb") as f:
            f.write(r.stdout)
        print("wrote", v["name"])


if __name__ == "__main__":
    main(sys.argv[1])
