# Ponte. Fresh machine: `make run` starts the hub with demo stores; `make test` runs every test.
GO       ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.6.1

.PHONY: run test test-unit bench bench-orders build lint emulator clean

run:
	$(GO) run ./cmd/ponte serve

# Installs and starts the AWS API emulator (moto, from PyPI) on loopback, then runs every
# test, the DynamoDB and SQS contract suites included.
test:
	bash scripts/test.sh

# Unit tests only, without the AWS emulator (the AWS-backend suites skip).
test-unit:
	$(GO) test ./...

bench:
	$(GO) run ./cmd/ponte bench

# Issue 4's bench: store webhooks with duplicates and out-of-order updates, one order each.
bench-orders:
	$(GO) run ./cmd/ponte bench --scenario orders

# One linux/arm64 `bootstrap` per Lambda function, for provided.al2023.
build:
	@for f in $(FUNCTIONS); do \
		echo "build functions/$$f"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o build/$$f/bootstrap ./functions/$$f || exit 1; \
	done

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

emulator:
	bash scripts/aws-emulator.sh start

clean:
	rm -rf build .ponte
	bash scripts/aws-emulator.sh stop
	bash scripts/elasticmq.sh stop

# Deploy with the CDK (infra/): builds the bootstraps, installs the pinned tools into .tools/
# and deploys the stack ponte-$(STAGE). Once per account and region: `cd infra && cdk bootstrap`.
# SAM instead: `sam build && sam deploy` (template.yaml, samconfig.toml; see infra/README.md).
STAGE ?= dev
ALARM_EMAIL ?=
LOG_RETENTION_DAYS ?= 30
CDK_FLAGS ?=
INFRA_PATH = $(shell bash scripts/infra-tools.sh --print):$(PATH)

.PHONY: deploy synth
deploy: build
	cd infra && PATH="$(INFRA_PATH)" cdk deploy -c stage=$(STAGE) -c assets=../build \
		--parameters AlarmEmail=$(ALARM_EMAIL) --parameters LogRetentionDays=$(LOG_RETENTION_DAYS) $(CDK_FLAGS)

# Synthesizes the CDK template into infra/cdk.out/ponte-$(STAGE).template.json (no AWS access).
synth: build
	cd infra && PATH="$(INFRA_PATH)" cdk synth -q -c stage=$(STAGE) -c assets=../build
	@echo "infra/cdk.out/ponte-$(STAGE).template.json"
