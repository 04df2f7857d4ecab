"""The fake ``pulumi`` executable itself (``fake_pulumi.install_fake_pulumi`` copies it behind a
``#!`` line of this interpreter). Never imported: it runs as a program, one call per process."""
import json
import os
import signal
import sys
import time

import yaml

LOG, PLAN = os.environ["FAKE_PULUMI_LOG"], os.environ["FAKE_PULUMI_PLAN"]
REPO = os.environ.get("FAKE_PULUMI_REPO", "")  # this checkout: where the program's ``components`` live
argv = sys.argv[1:]

def on_sigint(signum, frame):  # the real CLI cancels the update cleanly on SIGINT
    with open(LOG, "a") as fh:
        fh.write(json.dumps({"argv": argv, "verb": "<SIGINT>", "cwd": "", "env": {}}) + "\n")
    print("error: update canceled", flush=True)
    sys.exit(255)

signal.signal(signal.SIGINT, on_sigint)

def opt(name):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else None

words = [a for i, a in enumerate(argv) if not a.startswith("-")
         and (i == 0 or argv[i - 1] not in ("--stack", "--cwd", "-s", "-C"))]
verb = " ".join(words[:2]) if words[:1] in (["config"], ["stack"]) else (words[0] if words else "")
cwd = opt("--cwd") or os.getcwd()
with open(PLAN) as fh:
    plan = json.load(fh)
previous = 0
if os.path.exists(LOG):
    with open(LOG) as fh:
        previous = sum(1 for line in fh if json.loads(line)["verb"] == verb)
with open(LOG, "a") as fh:
    env = {k: v for k, v in os.environ.items() if k.startswith("PULUMI_")}
    fh.write(json.dumps({"argv": argv, "verb": verb, "cwd": cwd, "env": env}) + "\n")
nth = previous + 1
for rule in plan.get("rules", []):
    if rule["verb"] == verb and rule.get("nth") in (None, nth):
        if rule.get("sleep"):
            time.sleep(rule["sleep"])
        for path, text in (rule.get("write") or {}).items():
            with open(path, "w") as out:
                out.write(text)
        if rule.get("run"):  # what the real engine would do, e.g. the real gate and switch code
            import subprocess
            hook_env = dict(os.environ, FAKE_PULUMI_CWD=cwd, FAKE_PULUMI_STACK=opt("--stack") or "",
                            FAKE_PULUMI_REPO=REPO)
            done = subprocess.run(rule["run"], env=hook_env, capture_output=True, text=True)
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            if done.returncode:
                sys.exit(done.returncode)
        if rule.get("exit"):
            sys.stdout.write(rule.get("stdout", ""))
            sys.stderr.write(rule.get("stderr", ""))
            sys.exit(rule["exit"])
        break
if verb == "version":
    print("v3.272.0")
elif verb in ("stack select", "whoami"):
    pass
elif verb == "stack history":
    print(json.dumps([{"kind": "update", "startTime": "2026-01-01T00:00:00.000Z", "message": "",
                       "environment": {}, "config": {}, "result": "succeeded", "version": 1}]))
elif verb == "config set":
    rest = [a for a in words[2:]]
    key, value = rest[0], rest[1]
    path = os.path.join(cwd, "Pulumi.{}.yaml".format(opt("--stack")))
    with open(path) as fh:
        doc = yaml.safe_load(fh) or {}
    config = doc.setdefault("config", {})
    if "--path" in argv and "." in key:
        top, _, sub = key.partition(".")
        section = config.get(top) if isinstance(config.get(top), dict) else {}
        section[sub] = value
        config[top] = section
    else:
        config[key] = value
    with open(path + ".tmp", "w") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
    os.replace(path + ".tmp", path)
elif verb == "stack output":
    print(json.dumps(plan.get("outputs", {})))
elif verb == "config" and "--json" in argv:  # `pulumi config --show-secrets --json`
    with open(os.path.join(cwd, "Pulumi.{}.yaml".format(opt("--stack")))) as fh:
        config = (yaml.safe_load(fh) or {}).get("config") or {}

    def reveal(value):  # this fake's "decryption": a secure value's text is the secret itself
        if isinstance(value, dict) and set(value) == {"secure"}:
            return value["secure"], True
        if isinstance(value, dict):
            pairs = {k: reveal(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
        return value, False

    shown = {}
    for key, value in config.items():
        plain, secret = reveal(value)
        text = json.dumps(plain) if isinstance(plain, (dict, list)) else (
            str(plain).lower() if isinstance(plain, bool) else str(plain))
        shown[key] = {"value": text, "secret": secret}
        if isinstance(plain, (dict, list)):
            shown[key]["objectValue"] = plain
    print(json.dumps(shown))
elif verb == "up":
    stack = opt("--stack")
    print(f"Updating ({stack}):\n    pulumi:pulumi:Stack togather-deploy-{stack} running")
    print("Resources:\n    unchanged")
    # like the program's exports, kept in the "backend" (the plan), not in the stack file
    with open(os.path.join(cwd, f"Pulumi.{stack}.yaml")) as fh:
        conf = (yaml.safe_load(fh) or {}).get("config") or {}
    slots = {c: conf.get("togather:" + c) or {} for c in ("blue", "green")}
    plan.setdefault("outputs", {}).update(
        activeColor=conf.get("togather:activeColor", "blue"),
        versions={c: s["version"] for c, s in slots.items() if isinstance(s, dict) and s.get("version")})
    with open(PLAN + ".tmp", "w") as fh:
        json.dump(plan, fh)
    os.replace(PLAN + ".tmp", PLAN)
