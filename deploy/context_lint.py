"""What `docker build` would miss or leak: the Dockerfile's sources against
.dockerignore, the way docker-compose sends the build context.

    python3 deploy/context_lint.py        (from the repository's root)

Checks that every COPY source of the Dockerfile (not COPY --from) reaches the
builder through .dockerignore, and that .build/, .git/ and so_info/ do not.
Prints one line per problem and the size of the context; exits 1 if there is
any problem. Needs the `docker` Python package (the docker-compose package
brings it), whose exclude_paths is what docker-compose itself uses.
"""
import glob
import os
import shlex
import sys

from docker.utils.build import PatternMatcher, exclude_paths

# Filled by deploy/stage.sh for the `prebuilt` target; a clone has only its
# README (kept out of the image), so its binaries must only not be excluded.
GENERATED = {"deploy/prebuilt"}
LEAKS = (".build", ".git", "so_info")


def copy_sources(dockerfile):
    """Every source path of every COPY without --from, globs expanded."""
    for line in dockerfile.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in (w for w in words[1:-1] if not w.startswith("--")):
            matches = glob.glob(source) if any(c in source for c in "*?[") else [source]
            yield from (os.path.normpath(path) for path in matches)


def main():
    with open(".dockerignore") as handle:
        patterns = [l.strip() for l in handle if l.strip() and not l.lstrip().startswith("#")]
    context = set(exclude_paths(".", patterns))
    problems = []
    with open("Dockerfile") as handle:
        sources = list(copy_sources(handle.read()))
    for path in sources:
        if path in GENERATED:
            if PatternMatcher(patterns).matches(path + "/node"):
                problems.append(f"COPY {path}: excluded by .dockerignore")
        elif path not in context:
            problems.append(f"COPY {path}: missing or excluded by .dockerignore")
    for leak in LEAKS:
        if any(p == leak or p.startswith(leak + "/") for p in context):
            problems.append(f"{leak} is sent to the builder")
    for problem in problems:
        print(f"  {problem}")
    print(f"  {len(context)} paths in the build context")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
