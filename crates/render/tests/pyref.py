"""Reference renderer for the conformance tests: Python Jinja2 with the settings Hugging Face
transformers uses for chat templates (transformers.utils.chat_template_utils).

stdin: a JSON list of jobs {"template": str, "context": object, "now": int}, optionally with
"templates": {name: text} for includes and "name" to render one of those instead of "template"
stdout: a JSON list of results {"ok": str} or {"error": str}, one per job.
"""

import datetime
import json
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def main():
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        now = job.get("now", 0)

        def raise_exception(message):
            raise jinja2.exceptions.TemplateError(message)

        def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
            return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

        def strftime_now(fmt):
            return datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime(fmt)

        env = ImmutableSandboxedEnvironment(
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[loopcontrols],
            loader=jinja2.DictLoader(job.get("templates", {})),
        )
        env.filters["tojson"] = tojson
        env.globals["raise_exception"] = raise_exception
        env.globals["strftime_now"] = strftime_now
        try:
            if "name" in job:
                template = env.get_template(job["name"])
            else:
                template = env.from_string(job["template"])
            results.append({"ok": template.render(**job["context"])})
        except Exception as e:  # noqa: BLE001 - report every failure to the caller
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
