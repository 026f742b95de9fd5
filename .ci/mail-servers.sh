#!/usr/bin/env bash
# The mail servers the transport, mailbox and relay tests talk to, all on
# 127.0.0.1 and all from Debian's packages:
#
#   Postfix  SMTP :25    *@lists.example.test  -> one catch-all mailbox,
#                        each copy carrying X-Original-To: <RCPT TO>;
#                        *@people.example.test -> one mailbox per local part;
#                        any other domain      -> 554 at RCPT TO.
#            SMTP :2526  the same, without PIPELINING, and a client idle
#                        for 2 s is dropped.
#   Dovecot  IMAP :143, POP3 :110, no TLS, password "test" for every user
#                        (log in with the full address).
#
# Usage:
#   mail-servers.sh            install when missing, (re)configure, start or
#                              reload; safe to run again at any time
#   mail-servers.sh stop       stop both servers (mailboxes are kept)
#   mail-servers.sh sink PORT  start Postfix's smtp-sink on 127.0.0.1:PORT
#                              (accepts and discards; for benchmarks), print
#                              its pid; stop it with `kill <pid>`
#
# Must run as root, under bash (it probes ports through /dev/tcp).
set -euo pipefail

MAIL_ROOT=${MAIL_ROOT:-/var/mail/vhosts}
SMTP_PORT=${SMTP_PORT:-25}
# A second listener that offers no PIPELINING and drops a client idle for
# two seconds: the SMTP client's command-by-command path, and its retry
# when a kept connection turns out closed.
SMTP_PLAIN_PORT=${SMTP_PLAIN_PORT:-2526}
MAIL_PASSWORD=${MAIL_PASSWORD:-test}
LIST_DOMAIN=${LIST_DOMAIN:-lists.example.test}
PEOPLE_DOMAIN=${PEOPLE_DOMAIN:-people.example.test}
CATCHALL="catchall@$LIST_DOMAIN"
DOVECOT_CONF=/etc/dovecot/hit-ci.conf
DOVECOT_PID=/run/dovecot/master.pid

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # wait_port PORT: up to 5 s
  local _
  for _ in $(seq 50); do
    listening "$1" && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

dovecot_running() {
  [ -f "$DOVECOT_PID" ] && kill -0 "$(cat "$DOVECOT_PID")" 2>/dev/null
}

stop_servers() {
  if command -v postfix >/dev/null 2>&1 && postfix status >/dev/null 2>&1; then
    postfix stop || true
  fi
  if dovecot_running; then
    kill "$(cat "$DOVECOT_PID")" || true
  fi
  echo "mail servers stopped"
}

start_sink() { # start_sink PORT
  local port=${1:?usage: mail-servers.sh sink PORT}
  [ -x /usr/sbin/smtp-sink ] || install_packages
  # As root smtp-sink insists on dropping privileges (-u); 1024 is the
  # listen backlog. Its output goes to a file, never to a pipe a CI step
  # waits on.
  /usr/sbin/smtp-sink -u nobody "127.0.0.1:$port" 1024 \
    </dev/null >>/var/log/smtp-sink.log 2>&1 &
  local pid=$!
  wait_port "$port"
  echo "$pid"
}

install_packages() {
  if command -v postfix >/dev/null 2>&1 \
    && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/pop3 ] \
    && [ -x /usr/lib/dovecot/dovecot-lda ]; then
    return 0
  fi
  # Postfix asks about its site type unless told beforehand.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postfix dovecot-core dovecot-imapd dovecot-pop3d
}

prepare_vmail() {
  getent group vmail >/dev/null || groupadd --system vmail
  id -u vmail >/dev/null 2>&1 || useradd --system --gid vmail \
    --home-dir "$MAIL_ROOT" --no-create-home --shell /usr/sbin/nologin vmail
  install -d -o vmail -g vmail -m 0750 "$MAIL_ROOT"
  touch /var/log/dovecot.log /var/log/dovecot-lda.log
  # The delivery agent runs as vmail and writes its own log.
  chown vmail:vmail /var/log/dovecot-lda.log
}

# Dovecot reads only this file (-c); Debian's conf.d stays untouched.
write_dovecot_conf() {
  local uid
  uid=$(id -u vmail)
  cat >"$DOVECOT_CONF.new" <<EOF
# Written by .ci/mail-servers.sh: test mailboxes on loopback, no TLS.
protocols = imap pop3
listen = 127.0.0.1
base_dir = /run/dovecot
log_path = /var/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# The default user name characters, plus the apostrophe of o'brien@.
auth_username_chars = abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@'
first_valid_uid = $uid
last_valid_uid = $uid
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = password=$MAIL_PASSWORD
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=$MAIL_ROOT/%d/%n
}
service imap-login {
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3s {
    port = 0
  }
}
service stats {
  # The LDA (user vmail) reports here; without this every delivery status
  # carries a permission error.
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol lda {
  log_path = /var/log/dovecot-lda.log
  postmaster_address = postmaster@$LIST_DOMAIN
}
EOF
  chmod 0644 "$DOVECOT_CONF.new"
  mv "$DOVECOT_CONF.new" "$DOVECOT_CONF"
}

configure_postfix() {
  # "No configuration" at install time leaves main.cf out; start from the
  # empty file, postconf fills in what the tests need.
  [ -f /etc/postfix/main.cf ] || install -m 0644 /dev/null /etc/postfix/main.cf
  # The smtpd listeners, named after their ports: drop every other one
  # first, or a changed port would add another listener.
  postconf -M | awk '$2 == "inet" && $8 == "smtpd" { print $1 "/inet" }' \
    | xargs -r postconf -MX
  postconf -M "$SMTP_PORT/inet=$SMTP_PORT inet n - n - - smtpd"
  postconf -M "$SMTP_PLAIN_PORT/inet=$SMTP_PLAIN_PORT inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=pipelining -o smtpd_timeout=2s"
  postconf -e \
    "myhostname = mx.example.test" \
    "mydomain = example.test" \
    "myorigin = \$myhostname" \
    "mydestination = \$myhostname, localhost" \
    "inet_interfaces = 127.0.0.1" \
    "inet_protocols = ipv4" \
    "mynetworks = 127.0.0.0/8" \
    "relayhost =" \
    "smtpd_relay_restrictions = reject_unauth_destination" \
    "default_transport = error:5.7.1 tests send no mail off this host" \
    "relay_transport = error:5.7.1 tests send no mail off this host" \
    "smtp_dns_support_level = disabled" \
    "smtpd_peername_lookup = no" \
    "smtpd_tls_security_level = none" \
    "virtual_mailbox_domains = $LIST_DOMAIN, $PEOPLE_DOMAIN" \
    "virtual_mailbox_maps = static:any" \
    "virtual_alias_maps = inline:{@$LIST_DOMAIN=$CATCHALL}" \
    "virtual_transport = dovecot" \
    "dovecot_destination_recipient_limit = 1" \
    "queue_run_delay = 10s" \
    "minimal_backoff_time = 10s" \
    "maximal_backoff_time = 60s" \
    "maillog_file = /var/log/postfix.log"
  # Delivery through Dovecot's LDA, which creates any mailbox on first use.
  # O writes X-Original-To (and needs the recipient limit of 1 above), R
  # Return-Path; ${user} leaves out a +tag. No D: Delivered-To would make
  # Postfix bounce a relayed copy as a loop.
  postconf -M "dovecot/unix=dovecot unix - n n - - pipe flags=ORhu user=vmail:vmail argv=/usr/lib/dovecot/dovecot-lda -c $DOVECOT_CONF -f \${sender} -d \${user}@\${domain}"
  # Debian's master.cf chroots most services, and only its init script
  # fills the chroot; `postfix start` does not.
  postconf -F '*/*/chroot = n'
  # Postfix tools wait until main.cf is two seconds old; it is complete.
  touch -d '5 seconds ago' /etc/postfix/main.cf /etc/postfix/master.cf
  [ /etc/aliases.db -nt /etc/aliases ] || newaliases
}

start_servers() {
  # Dovecot first: Postfix hands every copy to it. Its processes keep the
  # stdio they start with, so they never get a pipe.
  if dovecot_running; then
    dovecot -c "$DOVECOT_CONF" reload
  else
    dovecot -c "$DOVECOT_CONF" </dev/null >>/var/log/dovecot.log 2>&1 \
      || { tail -n 20 /var/log/dovecot.log >&2; return 1; }
  fi
  if postfix status >/dev/null 2>&1; then
    postfix reload
  else
    postfix start
  fi
  local port
  for port in "$SMTP_PORT" "$SMTP_PLAIN_PORT" 143 110; do wait_port "$port"; done
  # Mail deferred while Dovecot was down goes now, not in minutes.
  postqueue -f
}

case "${1:-start}" in
  stop) stop_servers ;;
  sink) start_sink "${2:-}" ;;
  start)
    install_packages
    prepare_vmail
    write_dovecot_conf
    configure_postfix
    start_servers
    echo "mail servers up on 127.0.0.1: smtp $SMTP_PORT (and $SMTP_PLAIN_PORT without pipelining), imap 143, pop3 110; mailboxes in $MAIL_ROOT"
    ;;
  *)
    echo "usage: $0 [start|stop|sink PORT]" >&2
    exit 2
    ;;
esac
