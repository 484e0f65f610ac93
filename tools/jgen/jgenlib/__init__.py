"""jgen: a deterministic generator of realistic systemd journals in Journal Export Format.

The library models what journald 252 stores for each writer (client fields in the order the
writer sends them, trusted fields from journald's per-PID context cache, field order by
data-object offset as journal_file_append_entry() sorts them) so that generated entries can be
compared field by field with `journalctl -o export` output of a real Debian 12 host.

Modules:
  export    Journal Export Format encoding, cursors, the per-host journal writer, a parser.
  model     hosts, users, processes, units, version profiles, cgroup-derived trusted fields.
  programs  record builders for sshd, sudo, systemd (PID 1 and user managers), logind, cron, ...
  flows     composite actors: ssh sessions, sudo, timer installs, boots, attack chains.
  noise     background traffic of a Debian server.
  scenario  the scheduler that merges actors in time order and streams entries out.
  cases     the sample journals under sample-journals/ and their ground truth.
"""
