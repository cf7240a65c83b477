#!/usr/bin/env bash
# The identity and RBAC scenario, written for `az`: run it against a
# running Cerulean server with `az` on PATH (the cerulean binary through a
# link named az). CERULEAN_ENDPOINT and CERULEAN_DATA_DIR tell az where the
# server and its CA are. Every step checks its result; the first failure
# stops the script with a non-zero exit code.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
owner_dir="$work/owner"
reader_dir="$work/reader"
group="myResourceGroup-$RANDOM"
sp_name="reader-sp-$RANDOM"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
as_owner() { AZURE_CONFIG_DIR="$owner_dir" az "$@"; }
as_reader() { AZURE_CONFIG_DIR="$reader_dir" az "$@"; }
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

step "clean up"
as_owner ad sp delete --id "$sp_app_id"
as_owner group delete --name "$group" --yes
[ "$(as_owner group exists --name "$group")" = "false" ] || fail "group $group still exists"

printf '\nscenario passed\n' >&2
