#!/usr/bin/env bash
# The seed scenario, written for `az`: identities and RBAC, then a private
# registry whose image `az acr build` builds from a Dockerfile, that a
# service principal holding acrpush pushes a copy to and one holding
# acrpull reads from, and finally `az container create` running
# that image with the acrpull principal's appId and password, and its logs.
# Running containers needs root, runc and a static busybox (the image's
# shell); without them the last step says so and is skipped. Run it against a running Cerulean
# server with `az` on PATH (the cerulean binary through a link named az).
# CERULEAN_ENDPOINT and CERULEAN_DATA_DIR tell az where the server and its
# CA are. Every step checks its result; the first failure stops the script
# with a non-zero exit code.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
owner_dir="$work/owner"
reader_dir="$work/reader"
pusher_dir="$work/pusher"
puller_dir="$work/puller"
registry="mycontainerregistry$RANDOM"
group="myResourceGroup-$RANDOM"
sp_name="reader-sp-$RANDOM"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
as_owner() { AZURE_CONFIG_DIR="$owner_dir" az "$@"; }
as_reader() { AZURE_CONFIG_DIR="$reader_dir" az "$@"; }
as_pusher() { AZURE_CONFIG_DIR="$pusher_dir" az "$@"; }
as_puller() { AZURE_CONFIG_DIR="$puller_dir" az "$@"; }

# make_context DIR: the build context of the scenario's image: a
# Dockerfile and a root filesystem holding the host's static busybox, when
# there is one, so that the image runs. Where containers run (root, runc),
# the Dockerfile has a RUN step too.
make_context() {
	local dir=$1
	mkdir -p "$dir/rootfs/bin"
	printf 'hello from cerulean\n' >"$dir/rootfs/hello.txt"
	# (ldd fails on a static binary: a dynamic busybox would not run alone.)
	if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
		cp /bin/busybox "$dir/rootfs/bin/busybox"
		for l in sh cat echo sleep hostname; do ln -s busybox "$dir/rootfs/bin/$l"; done
	fi
	{
		printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n'
		if runtime_available; then
			printf 'RUN echo "built by az acr build" >> /hello.txt\n'
		fi
		printf 'CMD ["/bin/sh", "-c", "cat /hello.txt; echo running on $(hostname)"]\n'
	} >"$dir/Dockerfile"
	printf 'Dockerfile.*\n*.swp\n' >"$dir/.dockerignore"
}
runtime_available() { [ "$(id -u)" = 0 ] && command -v runc >/dev/null && [ -x /bin/busybox ]; }
# expect_refusal WANT CMD...: CMD must fail and print WANT on stderr.
expect_refusal() {
	local want=$1 err
	shift
	if err=$("$@" 2>&1 >/dev/null); then
		fail "expected '$*' to be refused with $want, but it succeeded"
	fi
	grep -q -- "$want" <<<"$err" || fail "expected $want from '$*', got: $err"
	printf 'refused as expected: %s\n' "$(head -n1 <<<"$err")" >&2
}

step "az login as the bootstrap owner"
as_owner login -o none
tenant=$(as_owner account show --query tenantId -o tsv)

step "az group create --name $group --location eastus"
as_owner group create --name "$group" --location eastus -o table
group_id=$(as_owner group show --name "$group" --query id -o tsv)
[ "$(as_owner group exists --name "$group")" = "true" ] || fail "group $group does not exist"

step "az ad sp create-for-rbac --name $sp_name --role Reader --scopes $group_id"
sp_password=$(as_owner ad sp create-for-rbac --name "$sp_name" --scopes "$group_id" --role Reader --query password --output tsv)
[ -n "$sp_password" ] || fail "no password returned"

step "az ad sp list --display-name $sp_name"
sp_app_id=$(as_owner ad sp list --display-name "$sp_name" --query "[].appId" --output tsv)
[ -n "$sp_app_id" ] || fail "service principal $sp_name not found"
as_owner role assignment list --assignee "$sp_app_id" --scope "$group_id" -o table

step "log in as $sp_name and read the group"
as_reader login --service-principal -u "$sp_app_id" -p "$sp_password" --tenant "$tenant" -o none
[ "$(as_reader group show --name "$group" --query name -o tsv)" = "$group" ] || fail "reader cannot read $group"

step "the reader may not create a group"
expect_refusal AuthorizationFailed as_reader group create --name "other-$group" --location eastus

step "the owner deletes the reader's role assignment; the next read is refused"
as_owner role assignment delete --assignee "$sp_app_id" --role Reader --scope "$group_id"
expect_refusal AuthorizationFailed as_reader group show --name "$group"

step "the owner resets the reader's service principal credential"
# As in Azure, az ad sp credential reset replaces the secrets on the service
# principal object; create-for-rbac put the first secret on the application,
# so that one stays valid until the application's credential is reset.
sp_password2=$(as_owner ad sp credential reset --id "$sp_app_id" --query password -o tsv)
[ -n "$sp_password2" ] && [ "$sp_password2" != "$sp_password" ] || fail "sp credential reset returned no new password"
as_reader login --service-principal -u "$sp_app_id" -p "$sp_password2" --tenant "$tenant" --allow-no-subscriptions -o none

step "the owner resets the application's credential; the old secret is refused"
new_password=$(as_owner ad app credential reset --id "$sp_app_id" --query password -o tsv)
[ -n "$new_password" ] && [ "$new_password" != "$sp_password" ] || fail "app credential reset returned no new password"
expect_refusal AADSTS7000215 as_reader login --service-principal -u "$sp_app_id" -p "$sp_password" --tenant "$tenant"
as_reader login --service-principal -u "$sp_app_id" -p "$new_password" --tenant "$tenant" --allow-no-subscriptions -o none

step "az acr create --resource-group $group --name $registry --sku Basic"
as_owner acr create --resource-group "$group" --name "$registry" --sku Basic -o none
acr_registry_id=$(as_owner acr show --name "$registry" --query id --output tsv)
login_server=$(as_owner acr show --name "$registry" --query loginServer --output tsv)

step "service principals for pushing (acrpush) and pulling (acrpull)"
push_passwd=$(as_owner ad sp create-for-rbac --name "$registry-push-sp" --scopes "$acr_registry_id" --role acrpush --query password --output tsv)
push_app_id=$(as_owner ad sp list --display-name "$registry-push-sp" --query "[].appId" --output tsv)
sp_passwd=$(as_owner ad sp create-for-rbac --name "$registry-pull-sp" --scopes "$acr_registry_id" --role acrpull --query password --output tsv)
sp_app_id2=$(as_owner ad sp list --display-name "$registry-pull-sp" --query "[].appId" --output tsv)

step "az acr build --registry $registry --image myimage:v1 (the Dockerfile: FROM scratch, COPY, RUN)"
make_context "$work/context"
as_owner acr build --registry "$registry" --image myimage:v1 "$work/context"
[ "$(as_owner acr task list-runs --registry "$registry" --query "[0].status" -o tsv)" = Succeeded ] || fail "the build did not succeed"

step "the acrpush principal pushes a copy, myimage:v1-copy"
as_pusher login --service-principal -u "$push_app_id" -p "$push_passwd" --tenant "$tenant" --allow-no-subscriptions -o none
as_pusher acr import --name "$registry" --source "$login_server/myimage:v1" --username "$push_app_id" --password "$push_passwd" --image myimage:v1-copy

step "the acrpull principal reads it and may not change it"
as_puller login --service-principal -u "$sp_app_id2" -p "$sp_passwd" --tenant "$tenant" --allow-no-subscriptions -o none
[ "$(as_puller acr repository show-tags --name "$registry" --repository myimage --output tsv | tr '\n' ' ')" = "v1 v1-copy " ] || fail "myimage:v1 and its copy are not visible to the acrpull principal"
token=$(as_puller acr login --name "$registry" --expose-token --query accessToken --output tsv)
[ -n "$token" ] || fail "no registry token for the acrpull principal"
expect_refusal "authentication required" as_puller acr repository untag --name "$registry" --image myimage:v1
printf 'image %s/myimage:v1 is ready for %s\n' "$login_server" "$sp_app_id2" >&2

step "az container create --image $login_server/myimage:v1 with the acrpull principal's credentials"
if ! runtime_available; then
	printf 'skipped: running containers needs root, runc and busybox-static (bash scripts/run.sh installs them as root)\n' >&2
else
	as_owner container create --resource-group "$group" --name mycontainer \
		--image "$login_server/myimage:v1" \
		--registry-login-server "$login_server" \
		--registry-username "$sp_app_id2" --registry-password "$sp_passwd" \
		--restart-policy Never -o table
	step "az container logs --resource-group $group --name mycontainer"
	logs=""
	for _ in $(seq 1 100); do
		logs=$(as_owner container logs --resource-group "$group" --name mycontainer 2>/dev/null || true)
		grep -q "running on mycontainer" <<<"$logs" && break
		sleep 0.1
	done
	printf '%s\n' "$logs"
	grep -q "hello from cerulean" <<<"$logs" || fail "the container's output is not in az container logs"
	grep -q "built by az acr build" <<<"$logs" || fail "the image's RUN step left no trace in its output"
	state=""
	for _ in $(seq 1 100); do
		state=$(as_owner container show --resource-group "$group" --name mycontainer --query "containers[0].instanceView.currentState.state" -o tsv)
		[ "$state" = Terminated ] && break
		sleep 0.1
	done
	[ "$(as_owner container show --resource-group "$group" --name mycontainer --query "containers[0].instanceView.currentState.exitCode" -o tsv)" = 0 ] ||
		fail "the container did not exit 0 (state $state)"
	expect_refusal InaccessibleImage as_owner container create --resource-group "$group" --name badcontainer \
		--image "$login_server/myimage:v1" --registry-login-server "$login_server" \
		--registry-username "$sp_app_id2" --registry-password "not-the-password"
	as_owner container delete --resource-group "$group" --name mycontainer --yes -o none
fi

step "clean up"
as_owner acr delete --name "$registry" --yes
as_owner ad sp delete --id "$push_app_id"
as_owner ad sp delete --id "$sp_app_id2"
as_owner ad sp delete --id "$sp_app_id"
as_owner group delete --name "$group" --yes
[ "$(as_owner group exists --name "$group")" = "false" ] || fail "group $group still exists"

printf '\nscenario passed\n' >&2
