#!/usr/bin/env bash
# Checks the install steps written in the header of hosting/systemd/orleans-sweep-silo.service, as written, inside a
# scratch root: nothing on this machine changes, and no running systemd is needed.
#
#   sudo bash hosting/systemd/check-install.sh        # from anywhere; prints one line; exit 0 ok, 1 failed
#
# Needs root (useradd and chown) and Debian 12's packages systemd (systemd-analyze, systemctl), passwd (useradd) and
# coreutils (install, timeout). Takes well under a second; each command is bounded by `timeout`, and the scratch root
# is removed on every exit.
#
# What each header step becomes here:
#   dotnet publish ... PROJECT -o DIR   a stub executable named as PROJECT's <AssemblyName>, in DIR (a real publish
#                                       takes minutes; the name is what the unit's ExecStart must match)
#   cp ARGS                             the same cp, absolute paths moved under the scratch root
#   useradd ARGS                        useradd --prefix SCRATCH ARGS (the scratch root's /etc/passwd, /etc/group, ...)
#   install ARGS                        the same install, absolute paths moved under the scratch root and -o/-g names
#                                       turned into the scratch root's uid/gid (this machine does not know the user)
#   systemctl daemon-reload             nothing (no manager to reload)
#   systemctl enable [--now] UNIT       systemctl --root=SCRATCH enable UNIT (--now dropped: nothing can start here),
#                                       then systemd-analyze verify --root=SCRATCH UNIT, where any warning is a failure
# A step of another kind fails the check, so the header and this script stay in step. Then the installed unit is read:
# its User= must exist with a shell this machine has, its WorkingDirectory=, ReadWritePaths= and StateDirectory=
# directories must exist and belong to that user and its group, its ExecStart= and EnvironmentFile= must be there, and
# every OrleansSweep__<Key> the env file sets (or shows commented out) must be a setting of ClusterSiloOptions or
# DeviceOptions.
set -euo pipefail

me="check-install"
fail() { echo "$me: FAIL: $*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
unit_source="$here/orleans-sweep-silo.service"
# The section "OrleansSweep" is bound by two options classes: the cluster silo's and the devices' (docs/design.md 4.7).
options_sources=("$repo"/hosting/OrleansSweep.Hosting/ClusterSilo.cs "$repo"/src/OrleansSweep.Grains/Devices/DeviceOptions.cs "$repo"/hosting/OrleansSweep.Hosting/MetricsOptions.cs)

[ "$(id -u)" -eq 0 ] || fail "run as root (useradd --prefix and chown need it): sudo bash $0"
for tool in systemd-analyze:systemd systemctl:systemd useradd:passwd install:coreutils timeout:coreutils; do
  command -v "${tool%%:*}" >/dev/null || fail "${tool%%:*} not found: apt-get install ${tool##*:}"
done
[ -f "$unit_source" ] || fail "$unit_source not found"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/orleans-sweep-check-install.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM
root="$scratch/root"        # the machine being installed
work="$scratch/checkout"    # the operator's working directory (publish output)
# A fresh Debian machine's directories, account files and configuration: root alone in passwd/group, this machine's
# login.defs and useradd defaults (USERGROUPS_ENAB, the system uid range), and the distribution's units
# (sysinit.target, ...), which verify needs.
mkdir -p "$work" "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root/opt" "$root/srv" "$root/var/lib" "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\n' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
for f in /etc/login.defs /etc/default/useradd; do
  [ -f "$f" ] && mkdir -p "$root$(dirname "$f")" && cp "$f" "$root$f"
done
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"

# Runs a step's command with a bound; on failure the step and the command's first line of error are the one line.
step=""
run() {
  local out rc=0
  out="$(timeout 20 "$@" 2>&1)" || rc=$?
  [ "$rc" -ne 124 ] || fail "step '$step': $1 did not finish within 20 s"
  [ "$rc" -eq 0 ] || fail "step '$step': $1 exited $rc: ${out%%$'\n'*}"
  if [ -n "$out" ] && [ "${quiet_ok:-0}" != 1 ]; then fail "step '$step': $1 said: ${out%%$'\n'*}"; fi
  return 0
}
# Absolute paths go under the scratch root; a relative one is the publish output if it is there, else the checkout's.
map_path() {
  case "$1" in
    /*) printf '%s' "$root$1" ;;
    *) if [ -e "$work/$1" ]; then printf '%s' "$work/$1"; else printf '%s' "$repo/$1"; fi ;;
  esac
}
uid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/passwd"; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/group"; }

# --- the header's steps ------------------------------------------------------------------------------------------
steps=()
unsafe='[]["'"'"'$`*?;|<>\\(){}[]'
while IFS= read -r line; do
  [[ "$line" == "#"* ]] || break
  [[ "$line" == "#   "* ]] || continue
  line="${line#\#   }"
  line="$(sed -E 's/[[:space:]]+#.*$//' <<<"$line")"
  [[ "$line" =~ $unsafe ]] && fail "header step '$line': only plain words are checked (no quotes, variables, globs, pipes)"
  while [[ "$line" == *" && "* ]]; do steps+=("${line%% && *}"); line="${line#* && }"; done
  steps+=("$line")
done <"$unit_source"
[ "${#steps[@]}" -gt 0 ] || fail "no install steps found in the header of $unit_source"

installed_unit=""
for step in "${steps[@]}"; do
  read -ra words <<<"$step"
  [ "${words[0]}" = sudo ] && words=("${words[@]:1}")
  case "${words[0]} ${words[1]:-}" in
    "dotnet publish")
      project="" out=""
      for ((i = 2; i < ${#words[@]}; i++)); do
        case "${words[i]}" in
          -o | --output) out="${words[i + 1]:-}"; i=$((i + 1)) ;;
          -c | -f | -r) i=$((i + 1)) ;;
          -*) ;;
          *) project="${words[i]}" ;;
        esac
      done
      [ -n "$out" ] || fail "step '$step': no -o DIR, so the published files' place is not said"
      { [ -n "$project" ] && [ -d "$repo/$project" ]; } || fail "step '$step': project directory '$project' not found in $repo"
      csproj="$(find "$repo/$project" -maxdepth 1 -name '*.csproj' | head -n 1)"
      [ -n "$csproj" ] || fail "step '$step': no .csproj in $project"
      name="$(sed -n 's:.*<AssemblyName>\(.*\)</AssemblyName>.*:\1:p' "$csproj" | head -n 1)"
      [ -n "$name" ] || name="$(basename "$csproj" .csproj)"
      [[ "$out" == /* ]] && dest="$root$out" || dest="$work/$out"
      mkdir -p "$dest"
      printf '#!/bin/sh\nexit 0\n' >"$dest/$name"
      chmod 0755 "$dest/$name"
      ;;
    cp\ *)
      args=()
      for w in "${words[@]:1}"; do [[ "$w" == -* ]] && args+=("$w") || args+=("$(map_path "$w")"); done
      run cp "${args[@]}"
      last="${words[${#words[@]} - 1]}"
      case "$last" in /etc/systemd/system/*) installed_unit="${last#/etc/systemd/system/}" ;; esac
      case "$last" in /etc/systemd/system/) installed_unit="$(basename "${words[${#words[@]} - 2]}")" ;; esac
      ;;
    useradd\ *)
      run useradd --prefix "$root" "${words[@]:1}"
      ;;
    install\ *)
      args=()
      for ((i = 1; i < ${#words[@]}; i++)); do
        w="${words[i]}"
        case "$w" in
          -o | -g)
            n="${words[i + 1]:-}"
            [ "$w" = -o ] && id="$(uid_of "$n")" || id="$(gid_of "$n")"
            [ -n "$id" ] || fail "step '$step': $w $n: no such $([ "$w" = -o ] && echo user || echo group) (an earlier step should have created it)"
            args+=("$w" "$id"); i=$((i + 1)) ;;
          -m) args+=("$w" "${words[i + 1]:-}"); i=$((i + 1)) ;;
          -d | -D) args+=("$w") ;;
          -*) fail "step '$step': install option $w is not one this script knows how to check" ;;
          *) args+=("$(map_path "$w")") ;;
        esac
      done
      run install "${args[@]}"
      ;;
    "systemctl daemon-reload") ;;
    "systemctl enable")
      units=()
      for w in "${words[@]:2}"; do [[ "$w" == -* ]] || units+=("$w"); done
      [ "${#units[@]}" -gt 0 ] || fail "step '$step': no unit named"
      for u in "${units[@]}"; do
        [[ "$u" == *.* ]] || u="$u.service"
        quiet_ok=1 run systemctl --root="$root" enable "$u"
        [ -L "$root/etc/systemd/system/multi-user.target.wants/$u" ] \
          || fail "step '$step': enabling $u linked nothing into multi-user.target.wants (its [Install] section?)"
        run systemd-analyze verify --root="$root" --man=no --generators=no "$u"
      done
      ;;
    *) fail "header step '$step' is not one this script knows how to check; teach it, or write the step another way" ;;
  esac
done

# --- the installed unit --------------------------------------------------------------------------------------------
step="the installed unit"
[ -n "$installed_unit" ] || fail "no step copies the unit into /etc/systemd/system/"
unit="$root/etc/systemd/system/$installed_unit"
[ -f "$unit" ] || fail "$installed_unit was not installed to /etc/systemd/system/"
[ -L "$root/etc/systemd/system/multi-user.target.wants/$installed_unit" ] || fail "no step enables $installed_unit"
key() { sed -n -E "s/^$1=(.*)$/\1/p" "$unit"; }

user="$(key User | tail -n 1)"
[ -n "$user" ] || fail "$installed_unit sets no User="
uid="$(uid_of "$user")"
[ -n "$uid" ] || fail "User=$user: the steps create no such user"
gid="$(awk -F: -v n="$user" '$1 == n { print $4 }' "$root/etc/passwd")"
[ "$(awk -F: -v g="$gid" '$3 == g { print $1 }' "$root/etc/group")" = "$user" ] \
  || fail "User=$user: its primary group (gid $gid) is not a group of its own named $user"
shell="$(awk -F: -v n="$user" '$1 == n { print $7 }' "$root/etc/passwd")"
[ -x "$shell" ] || fail "User=$user: its shell $shell does not exist on this machine"

dirs=()
for d in $(key WorkingDirectory) $(key ReadWritePaths); do dirs+=("${d#-}"); done
for d in $(key StateDirectory); do dirs+=("/var/lib/$d"); done
mapfile -t dirs < <(printf '%s\n' "${dirs[@]}" | awk '!seen[$0]++')
[ "${#dirs[@]}" -gt 0 ] || fail "$installed_unit names no WorkingDirectory=, ReadWritePaths= or StateDirectory="
for d in "${dirs[@]}"; do
  [ -d "$root$d" ] || fail "$d (named by $installed_unit) does not exist after the steps"
  owner="$(stat -c '%u:%g' "$root$d")"
  [ "$owner" = "$uid:$gid" ] || fail "$d belongs to uid:gid $owner after the steps, not to $user ($uid:$gid)"
  [ "$(( 0$(stat -c '%a' "$root$d") & 0200 ))" -ne 0 ] || fail "$d is not writable by its owner $user"
done

exec_start="$(key ExecStart | head -n 1)"
exec_start="${exec_start%% *}"
exec_start="${exec_start##[-@:+!]}"
[ -x "$root$exec_start" ] || fail "ExecStart $exec_start is not installed by the steps"

env_file="$(key EnvironmentFile | head -n 1)"
env_file="${env_file#-}"
if [ -n "$env_file" ]; then
  [ -f "$root$env_file" ] || fail "EnvironmentFile $env_file is not installed by the steps"
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    if [[ "$line" =~ ^#[[:space:]]*(OrleansSweep__[A-Za-z0-9_]+)= ]]; then name="${BASH_REMATCH[1]}"
    elif [[ "$line" == "#"* ]]; then continue
    elif [[ "$line" =~ ^([A-Za-z_][A-Za-z0-9_]*)=[^[:space:]] ]]; then name="${BASH_REMATCH[1]}"
    else fail "$env_file line $n is not KEY=VALUE: $line"
    fi
    [[ "$name" == OrleansSweep__* ]] || continue
    setting="${name#OrleansSweep__}"
    setting="${setting%%__*}"
    grep -Eq "public [^(=]* $setting \{ get; set; \}" "${options_sources[@]}" \
      || fail "$env_file line $n: $name: none of ClusterSiloOptions, DeviceOptions, MetricsOptions has a setting $setting"
  done <"$root$env_file"
fi

echo "$me: ok: ${#steps[@]} steps in a scratch root; $installed_unit verified and enabled; user $user ($uid:$gid); ${dirs[*]} exist and belong to it"
