"""What `docker-compose config -q` does not check: that the compose files wire
the sentence store together the way deploy/README.md says.

    docker-compose -f docker-compose.yml [-f override.yml] config | python3 deploy/compose_lint.py

Reads the resolved configuration (YAML) on standard input and checks:
- every node service (command `node`) keeps its SQLite file on a named volume at
  /data, mounts the host's /proc read-only at /host/proc, points NODE_SO_INFO and
  NODE_PROC there, has a healthcheck on /health and restarts unless stopped;
- BALANCER_NODES names every node service once, by service name on port 5000,
  and the balancer starts after each of them (started, not healthy: a node that
  cannot store answers /health with 503 and must not hold the balancer back),
  publishes 4999 and has a healthcheck;
- the loader, if present, is under the `load` profile, does not restart, waits
  for a healthy balancer, sends to http://balancer:4999 and mounts its input
  read-only;
- every service runs an init as PID 1 (`init: true`), which forwards signals
  and reaps children, so `stop` is a graceful shutdown.
Prints one line per problem and exits 1 if there is any. Needs PyYAML (the
docker-compose package brings it).
"""
import sys
from urllib.parse import urlsplit

import yaml


def volumes_of(service):
    """(source, target, read_only) for each volume, short or long syntax."""
    result = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            parts = volume.split(":")
            source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
            mode = parts[2] if len(parts) > 2 else "rw"
            result.append((source, target, "ro" in mode.split(",")))
        else:
            result.append((volume.get("source"), volume.get("target"), bool(volume.get("read_only"))))
    return result


def command_of(service):
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else list(command)


def healthcheck_problems(name, service, port):
    check = service.get("healthcheck") or {}
    test = check.get("test") or []
    text = " ".join(test) if isinstance(test, list) else str(test)
    if check.get("disable") or not test:
        return [f"{name}: no healthcheck"]
    if str(port) not in text or "/health" not in text:
        return [f"{name}: healthcheck does not ask port {port} /health: {text}"]
    return []


def main():
    config = yaml.safe_load(sys.stdin)
    services = config.get("services", {})
    named_volumes = set((config.get("volumes") or {}).keys())
    problems = []

    nodes = {name for name, s in services.items() if command_of(s)[:1] == ["node"]}
    if len(nodes) < 2:
        problems.append(f"expected at least two node services, found {sorted(nodes)}")

    for name in sorted(nodes):
        service = services[name]
        volumes = volumes_of(service)
        data = [v for v in volumes if v[1] == "/data"]
        if not data or data[0][0] not in named_volumes:
            problems.append(f"{name}: /data is not a named volume")
        if ("/proc", "/host/proc", True) not in volumes:
            problems.append(f"{name}: host /proc is not mounted read-only at /host/proc")
        env = service.get("environment") or {}
        if env.get("NODE_PROC") != "/host/proc" or env.get("NODE_SO_INFO") != "/host/proc/so_info":
            problems.append(f"{name}: NODE_PROC / NODE_SO_INFO do not point at /host/proc")
        if service.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {service.get('restart')!r}, not unless-stopped")
        problems += healthcheck_problems(name, service, 5000)
    shared = [v for v in named_volumes if sum(1 for n in nodes for s, t, _ in volumes_of(services[n]) if s == v) > 1]
    if shared:
        problems.append(f"named volumes shared by several nodes: {shared}")

    balancer = services.get("balancer")
    if balancer is None:
        problems.append("no balancer service")
    else:
        env = balancer.get("environment") or {}
        entries = [e for e in str(env.get("BALANCER_NODES", "")).split(",") if e]
        hosts = []
        for entry in entries:
            label, _, url = entry.partition("=")
            parts = urlsplit(url)
            if not label or parts.scheme != "http" or parts.port != 5000:
                problems.append(f"balancer: bad BALANCER_NODES entry {entry!r}")
            hosts.append(parts.hostname)
        if sorted(hosts) != sorted(nodes):
            problems.append(f"balancer: BALANCER_NODES names {sorted(hosts)}, node services are {sorted(nodes)}")
        depends = balancer.get("depends_on") or {}
        for name in sorted(nodes):
            condition = depends.get(name, {}).get("condition") if isinstance(depends, dict) else None
            if condition != "service_started":
                problems.append(f"balancer: does not start after {name} (condition: service_started)")
        ports = balancer.get("ports") or []
        if not any(str(p.get("target") if isinstance(p, dict) else p).split(":")[-1] == "4999" for p in ports):
            problems.append("balancer: port 4999 is not published")
        problems += healthcheck_problems("balancer", balancer, 4999)

    loader = services.get("loader")
    if loader is not None:
        command = command_of(loader)
        if "load" not in (loader.get("profiles") or []):
            problems.append("loader: not under the `load` profile")
        if str(loader.get("restart", "no")) != "no":
            problems.append("loader: a one-shot service must not restart")
        if "--balancer" not in command or command[command.index("--balancer") + 1:][:1] != ["http://balancer:4999"]:
            problems.append(f"loader: does not send to http://balancer:4999: {command}")
        if "--file" not in command:
            problems.append("loader: no --file")
        if not any(target == "/input" and ro for _, target, ro in volumes_of(loader)):
            problems.append("loader: /input is not mounted read-only")
        depends = loader.get("depends_on") or {}
        if not isinstance(depends, dict) or depends.get("balancer", {}).get("condition") != "service_healthy":
            problems.append("loader: does not wait for a healthy balancer")

    for name in sorted(services):
        if services[name].get("init") is not True:
            problems.append(f"{name}: no init as PID 1 (init: true)")

    for problem in problems:
        print(f"  {problem}")
    if not problems:
        print(f"  nodes {sorted(nodes)}, balancer, loader: {'yes' if loader else 'no'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
