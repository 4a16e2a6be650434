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
  and reaps children, so `stop` is a graceful shutdown;
- Litestream: each node has exactly one litestream service (command
  `litestream replicate -config FILE`) that mounts the node's own /data volume,
  gets the same NODE_DATABASE, LITESTREAM_REPLICA_URL, LITESTREAM_SOCKET and
  AWS_* as the node, runs as the same user, and mounts the same configuration
  file read-only where the node reads it (NODE_LITESTREAM_CONFIG); that file
  is deploy/litestream/litestream.yml, and every ${VAR} it names is set in
  both. The node reads the socket Litestream serves (NODE_LITESTREAM_SOCKET =
  LITESTREAM_SOCKET, on the shared volume), leaves checkpoints to it
  (NODE_WAL_AUTOCHECKPOINT 0) and starts after it; NODE_DATABASE is on /data.
  Replica URLs differ between nodes; a file:// replica is on a named volume
  that is not a /data volume, mounted in both (read-only is enough for the
  node, which only restores from it). The litestream service restarts unless
  stopped and its healthcheck asks its socket (`litestream info -socket`).
Prints one line per problem and exits 1 if there is any. Needs PyYAML (the
docker-compose package brings it).
"""
import os
import re
import sys
from urllib.parse import urlsplit

import yaml

# The one Litestream configuration of every deployment.
LITESTREAM_CONFIG = "deploy/litestream/litestream.yml"
# What both processes must agree on: the database, the replica, the socket,
# and S3 credentials (the node runs `litestream restore`).
SHARED_ENV = ("NODE_DATABASE", "LITESTREAM_REPLICA_URL", "LITESTREAM_SOCKET",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


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


def mount_of(path, volumes):
    """The (source, target, read_only) volume holding `path`: the deepest target above it."""
    found = [v for v in volumes if path == v[1] or path.startswith(v[1].rstrip("/") + "/")]
    return max(found, key=lambda v: len(v[1])) if found else None


def config_variables(source):
    """The ${VAR}s the Litestream configuration at `source` expands, or None if unreadable."""
    try:
        with open(source) as handle:
            text = handle.read()
    except OSError:
        return None
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


def litestream_problems(node_name, node, streams, named_volumes):
    """The node and its litestream service(s): one, sharing what they must."""
    problems = []
    n_volumes = volumes_of(node)
    n_data = next((v for v in n_volumes if v[1] == "/data"), None)
    mine = [(name, s) for name, s in streams.items()
            if n_data and any(v[0] == n_data[0] and v[1] == "/data" for v in volumes_of(s))]
    if len(mine) != 1:
        names = [name for name, _ in mine]
        problems.append(f"{node_name}: {len(mine)} litestream services share its /data volume {names}, not 1")
        return problems
    l_name, stream = mine[0]
    n_env = node.get("environment") or {}
    l_env = stream.get("environment") or {}
    l_volumes = volumes_of(stream)
    for key in SHARED_ENV:
        if n_env.get(key) != l_env.get(key):
            problems.append(f"{node_name}, {l_name}: {key} differs ({n_env.get(key)!r} vs {l_env.get(key)!r})")
    database = str(n_env.get("NODE_DATABASE") or "")
    if not database.startswith("/data/"):
        problems.append(f"{node_name}: NODE_DATABASE {database!r} is not on /data")
    if str(n_env.get("NODE_WAL_AUTOCHECKPOINT")) != "0":
        problems.append(f"{node_name}: NODE_WAL_AUTOCHECKPOINT is {n_env.get('NODE_WAL_AUTOCHECKPOINT')!r},"
                        " not 0 (Litestream does the checkpoints)")
    socket = n_env.get("NODE_LITESTREAM_SOCKET")
    if not socket or socket != l_env.get("LITESTREAM_SOCKET"):
        problems.append(f"{node_name}: NODE_LITESTREAM_SOCKET {socket!r} is not {l_name}'s LITESTREAM_SOCKET")
    elif not (mount_of(socket, n_volumes) and mount_of(socket, l_volumes)
              and mount_of(socket, n_volumes)[0] == mount_of(socket, l_volumes)[0]
              and mount_of(socket, n_volumes)[0] in named_volumes):
        problems.append(f"{node_name}, {l_name}: the socket {socket} is not on a named volume both mount")
    command = command_of(stream)
    config = command[command.index("-config") + 1] if "-config" in command[:-1] else None
    if command[:2] != ["litestream", "replicate"] or not config:
        problems.append(f"{l_name}: command is not `litestream replicate -config FILE`: {command}")
    elif n_env.get("NODE_LITESTREAM_CONFIG") != config:
        problems.append(f"{node_name}: NODE_LITESTREAM_CONFIG {n_env.get('NODE_LITESTREAM_CONFIG')!r}"
                        f" is not {l_name}'s -config {config}")
    else:
        n_file, l_file = mount_of(config, n_volumes), mount_of(config, l_volumes)
        for who, mount in ((node_name, n_file), (l_name, l_file)):
            if not mount or mount[1] != config or not mount[2]:
                problems.append(f"{who}: {config} is not mounted read-only as a file")
            elif not mount[0].endswith("/" + LITESTREAM_CONFIG):
                problems.append(f"{who}: {config} is {mount[0]}, not {LITESTREAM_CONFIG}")
        if n_file and l_file and n_file[0] != l_file[0]:
            problems.append(f"{node_name}, {l_name}: different configuration files ({n_file[0]} vs {l_file[0]})")
        elif n_file and l_file:
            variables = config_variables(n_file[0])
            if variables is None:
                problems.append(f"{node_name}: cannot read {n_file[0]}")
            else:
                for who, env in ((node_name, n_env), (l_name, l_env)):
                    missing = sorted(v for v in variables if v not in env)
                    if missing:
                        problems.append(f"{who}: {LITESTREAM_CONFIG} reads {missing}, not set")
    url = urlsplit(str(l_env.get("LITESTREAM_REPLICA_URL") or ""))
    if url.scheme == "file":
        l_mount, n_mount = mount_of(url.path, l_volumes), mount_of(url.path, n_volumes)
        if not l_mount or l_mount[0] not in named_volumes or l_mount[2]:
            problems.append(f"{l_name}: the file replica {url.path} is not on a writable named volume")
        elif l_mount[1] == "/data" or any(v[0] == l_mount[0] and v[1] == "/data"
                                          for s in (node, stream) for v in volumes_of(s)):
            problems.append(f"{l_name}: the file replica {url.path} is on the data volume: no copy at all")
        elif not n_mount or n_mount[0] != l_mount[0] or n_mount[1] != l_mount[1]:
            problems.append(f"{node_name}: cannot read its file replica {url.path} (restore): not the same volume there")
    elif url.scheme != "s3":
        problems.append(f"{l_name}: LITESTREAM_REPLICA_URL {url.geturl()!r} is neither file:// nor s3://")
    if stream.get("user") != node.get("user"):
        problems.append(f"{node_name}, {l_name}: different users ({node.get('user')!r} vs {stream.get('user')!r});"
                        " the socket is its owner's only")
    if stream.get("restart") != "unless-stopped":
        problems.append(f"{l_name}: restart is {stream.get('restart')!r}, not unless-stopped")
    test = (stream.get("healthcheck") or {}).get("test") or []
    test = test.split() if isinstance(test, str) else list(test)
    if test[1:3] != ["litestream", "info"] or "-socket" not in test or \
            test[test.index("-socket") + 1:][:1] != [l_env.get("LITESTREAM_SOCKET")]:
        problems.append(f"{l_name}: healthcheck does not ask its socket (litestream info -socket): {test}")
    depends = node.get("depends_on") or {}
    if not isinstance(depends, dict) or depends.get(l_name, {}).get("condition") != "service_started":
        problems.append(f"{node_name}: does not start after {l_name} (so compose would stop {l_name} first)")
    return problems


def main():
    config = yaml.safe_load(sys.stdin)
    if not isinstance(config, dict):
        print(f"  not a resolved compose configuration: {str(config)[:200]!r}")
        return 1
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
    shared = [v for v in named_volumes
              if sum(1 for n in nodes for s, t, _ in volumes_of(services[n]) if s == v and t == "/data") > 1]
    if shared:
        problems.append(f"named volumes shared by several nodes: {shared}")

    streams = {name: s for name, s in services.items() if command_of(s)[:1] == ["litestream"]}
    for name in sorted(nodes):
        problems += litestream_problems(name, services[name], streams, named_volumes)
    node_data = {v[0] for n in nodes for v in volumes_of(services[n]) if v[1] == "/data"}
    for name in sorted(streams):
        if not any(v[1] == "/data" and v[0] in node_data for v in volumes_of(streams[name])):
            problems.append(f"{name}: replicates no node's /data volume")
    urls = [str((services[n].get("environment") or {}).get("LITESTREAM_REPLICA_URL")) for n in sorted(nodes)]
    if len(set(urls)) != len(urls):
        problems.append(f"nodes share a replica URL: {urls}")

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
        print(f"  nodes {sorted(nodes)}, litestream {sorted(streams)}, balancer, loader: {'yes' if loader else 'no'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
