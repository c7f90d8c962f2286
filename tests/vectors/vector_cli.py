"""Turns a vector description into `smtpcore send --print` arguments."""
import base64
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load_all():
    out = []
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".json"):
            with open(os.path.join(HERE, name), encoding="utf-8") as f:
                out.append(json.load(f))
    return out


def expected_path(vector):
    return os.path.join(HERE, vector["name"] + ".eml")


def cli_args(vector, workdir):
    """The CLI arguments that render `vector`; data files go under workdir."""
    args = ["send", "--print", "--seed", str(vector["seed"])]
    if "date" in vector:
        args += ["--date", str(vector["date"])]
    for flag in vector.get("flags", []):
        args.append({"8bit": "--print-8bit", "smtputf8": "--print-smtputf8"}[flag])
    args += ["--from", vector["from"]]
    for key, opt in (("to", "--to"), ("cc", "--cc"), ("bcc", "--bcc"), ("reply_to", "--reply-to")):
        for addr in vector.get(key, []):
            args += [opt, addr]
    if "subject" in vector:
        args += ["--subject", vector["subject"]]
    for key, opt in (("text", "--text-file"), ("html", "--html-file"), ("calendar", "--calendar")):
        if key in vector:
            path = os.path.join(workdir, key + ".body")
            with open(path, "wb") as f:
                f.write(vector[key].encode("utf-8"))
            args += [opt, path]
    for kind in ("inline", "attachments"):
        for i, part in enumerate(vector.get(kind, [])):
            d = os.path.join(workdir, "%s-%d" % (kind, i))
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, part["filename"])
            with open(path, "wb") as f:
                f.write(base64.b64decode(part["data_base64"]))
            if kind == "inline":
                args += ["--inline", "%s=%s" % (part["cid"], path)]
            else:
                args += ["--attach", path]
            args += ["--attach-type", part["content_type"]]
    for name, value in vector.get("headers", []):
        args += ["--header", "%s: %s" % (name, value)]
    return args
