#!/usr/bin/env bash
# Installs (once) and starts ElasticMQ on loopback: an SQS-compatible server (Apache-2.0)
# with SQS's strict limits (message size, batch sizes, FIFO group and deduplication id
# syntax), stricter than moto. The SQS queue contract suite runs against it as well.
# It comes from Maven Central with its dependencies (Maven resolves them into
# .tools/elasticmq-<version>/lib) and runs on the machine's Java (17 or newer).
#   scripts/elasticmq.sh start   -> prints the endpoint; idempotent
#   scripts/elasticmq.sh stop
#   scripts/elasticmq.sh status  -> exit 0 when the server this script started is running
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
ELASTICMQ_VERSION="1.7.1"
home="$tools/elasticmq-$ELASTICMQ_VERSION"
port="${PONTE_ELASTICMQ_PORT:-9324}"
pidfile="$tools/elasticmq.pid"
log="$tools/elasticmq.log"

install() {
  if [ -f "$home/lib/.complete" ]; then
    return
  fi
  command -v java >/dev/null || { echo "elasticmq: java (17+) is required" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "elasticmq: maven (mvn) is required to fetch it from Maven Central" >&2; exit 1; }
  mkdir -p "$home"
  cat >"$home/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ponte.tools</groupId>
  <artifactId>elasticmq-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.elasticmq</groupId>
      <artifactId>elasticmq-server_2.13</artifactId>
      <version>$ELASTICMQ_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  rm -rf "$home/lib"
  mvn -q -B -f "$home/pom.xml" dependency:copy-dependencies -DoutputDirectory="$home/lib" -DincludeScope=runtime >&2
  touch "$home/lib/.complete"
}

# config writes the server's settings: loopback only, strict SQS limits, and a node
# address so queue URLs point back at this port.
config() {
  cat >"$home/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address {
  protocol = http
  host = 127.0.0.1
  port = $port
  context-path = ""
}
rest-sqs {
  enabled = true
  bind-port = $port
  bind-hostname = "127.0.0.1"
  sqs-limits = strict
}
rest-stats {
  enabled = false
}
generate-node-address = false
aws {
  region = us-east-1
  accountId = 000000000000
}
CONF
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# listening: ElasticMQ answers any SQS query; ListQueues with the query protocol is the cheapest.
listening() { curl -fsS -o /dev/null "http://127.0.0.1:$port/?Action=ListQueues" 2>/dev/null; }

start() {
  install
  config
  if ! running; then
    nohup java -Dconfig.file="$home/elasticmq.conf" -cp "$home/lib/*" org.elasticmq.server.Main >"$log" 2>&1 &
    echo $! >"$pidfile"
  fi
  for _ in $(seq 1 300); do
    if listening; then
      echo "http://127.0.0.1:$port"
      return
    fi
    if ! running; then break; fi
    sleep 0.2
  done
  echo "elasticmq did not start; see $log" >&2
  exit 1
}

stop() {
  if running; then kill "$(cat "$pidfile")"; fi
  rm -f "$pidfile"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
