{{/* Chart name. */}}
{{- define "netdoctor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-based, at most 50 characters so suffixes (-worker-<cluster>) stay valid. */}}
{{- define "netdoctor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "netdoctor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "netdoctor.labels" -}}
helm.sh/chart: {{ include "netdoctor.chart" . }}
app.kubernetes.io/name: {{ include "netdoctor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: netdoctor
{{- end }}

{{/* Selector labels of the release (no component): the NetworkPolicy peers use these. */}}
{{- define "netdoctor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "netdoctor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "netdoctor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "netdoctor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "netdoctor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* True (non-empty) when the chart runs its own Redis. */}}
{{- define "netdoctor.redis.bundled" -}}
{{- if and (eq (default "bundled" .Values.redis.mode) "bundled") (not .Values.redis.url) (not .Values.redis.urlSecret.name) }}true{{ end }}
{{- end }}

{{- define "netdoctor.redis.fullname" -}}
{{- printf "%s-redis" (include "netdoctor.fullname" .) }}
{{- end }}

{{/* The Secret holding the bundled Redis's password: the user's, or the one the chart generates. */}}
{{- define "netdoctor.redis.authSecret" -}}
{{- default (printf "%s-auth" (include "netdoctor.redis.fullname" .)) .Values.redis.bundled.auth.existingSecret }}
{{- end }}

{{/* An env entry `name` holding the bundled Redis's password (dict: ctx, name). */}}
{{- define "netdoctor.redis.passwordEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "netdoctor.redis.authSecret" .ctx }}
      key: {{ .ctx.Values.redis.bundled.auth.key }}
{{- end }}

{{/* The Secret holding NETDOCTOR_PLAN_KEY: the user's, or the one the chart generates. */}}
{{- define "netdoctor.planKey.secret" -}}
{{- default (printf "%s-plan-key" (include "netdoctor.fullname" .)) .Values.remediation.planKey.existingSecret }}
{{- end }}

{{/*
The clusters this release serves, as a list of dicts {name, inCluster, kubeconfigSecret, context, replicas, resources}.
single: one in-cluster entry named .Values.cluster.name. multi: .Values.clusters, validated.
*/}}
{{- define "netdoctor.clusters" -}}
{{- $out := list }}
{{- if eq .Values.mode "single" }}
{{- $out = append $out (dict "name" .Values.cluster.name "inCluster" true) }}
{{- else if eq .Values.mode "multi" }}
{{- if not .Values.clusters }}{{ fail "mode: multi needs at least one entry in clusters" }}{{ end }}
{{- $seen := dict }}
{{- range .Values.clusters }}
{{- if not (regexMatch "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$" (toString .name)) }}
{{- fail (printf "clusters[].name %q must be a DNS label (lower-case letters, digits, -)" (toString .name)) }}
{{- end }}
{{- if hasKey $seen .name }}{{ fail (printf "clusters[].name %q appears twice" .name) }}{{ end }}
{{- $_ := set $seen .name true }}
{{- if and (not .inCluster) (not (and .kubeconfigSecret .kubeconfigSecret.name)) }}
{{- fail (printf "clusters[%s]: set kubeconfigSecret.name (a Secret with a kubeconfig for that cluster) or inCluster: true" .name) }}
{{- end }}
{{- $out = append $out . }}
{{- end }}
{{- else }}
{{- fail (printf "mode must be single or multi, not %q" (toString .Values.mode)) }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* Environment shared by serve and workers. */}}
{{- define "netdoctor.env" -}}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: NETDOCTOR_QUEUE_PREFIX
  value: {{ .Values.config.queuePrefix | quote }}
- name: NETDOCTOR_ADMIN_PORT
  value: {{ .Values.admin.port | quote }}
# The admin port has no auth: it listens on the pod IP (kubelet probes, Prometheus), not on every interface.
- name: NETDOCTOR_ADMIN_HOST
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: NETDOCTOR_SHUTDOWN_TIMEOUT_SECONDS
  value: {{ .Values.config.shutdownTimeoutSeconds | quote }}
- name: NETDOCTOR_REMEDIATION_ENABLED
  value: {{ .Values.remediation.enabled | quote }}
{{- if .Values.config.digest.channel }}
- name: NETDOCTOR_DIGEST_CHANNEL
  value: {{ .Values.config.digest.channel | quote }}
- name: NETDOCTOR_DIGEST_CRON
  value: {{ .Values.config.digest.cron | quote }}
- name: NETDOCTOR_DIGEST_TIMEZONE
  value: {{ .Values.config.digest.timezone | quote }}
{{- end }}
{{- $mode := default "bundled" .Values.redis.mode }}
{{- if eq $mode "sentinel" }}
{{- $s := .Values.redis.sentinel }}
{{- if or (not $s.nodes) (not $s.name) }}{{ fail "redis.mode=sentinel needs redis.sentinel.nodes (host:port,...) and redis.sentinel.name (the master group)" }}{{ end }}
- name: REDIS_SENTINELS
  value: {{ $s.nodes | quote }}
- name: REDIS_SENTINEL_NAME
  value: {{ $s.name | quote }}
{{- with $s.passwordSecret }}{{ if .name }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ .name }}, key: {{ .key }} }
{{- end }}{{ end }}
{{- with $s.sentinelPasswordSecret }}{{ if .name }}
- name: REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ .name }}, key: {{ .key }} }
{{- end }}{{ end }}
{{- else if eq $mode "cluster" }}
{{- $c := .Values.redis.cluster }}
{{- if not $c.nodes }}{{ fail "redis.mode=cluster needs redis.cluster.nodes (host:port,...)" }}{{ end }}
- name: REDIS_CLUSTER_NODES
  value: {{ $c.nodes | quote }}
{{- with $c.passwordSecret }}{{ if .name }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ .name }}, key: {{ .key }} }
{{- end }}{{ end }}
{{- else if and (eq $mode "external") (not .Values.redis.url) (not .Values.redis.urlSecret.name) }}
{{- fail "redis.mode=external needs redis.url or redis.urlSecret" }}
{{- else if .Values.redis.urlSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.urlSecret.name }}
      key: {{ .Values.redis.urlSecret.key }}
{{- else if .Values.redis.url }}
- name: REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- else }}
{{ include "netdoctor.redis.passwordEnv" (dict "ctx" . "name" "REDIS_PASSWORD") }}
# Kubernetes expands $(REDIS_PASSWORD) from the entry above: the password is never in the manifest.
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "netdoctor.redis.fullname" .) | quote }}
{{- end }}
{{- if .Values.remediation.enabled }}
- name: NETDOCTOR_PLAN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "netdoctor.planKey.secret" . }}
      key: {{ .Values.remediation.planKey.key }}
{{- end }}
{{- with .Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The bot token (workers post and update messages), from the referenced Secret only. */}}
{{- define "netdoctor.slackBotTokenEnv" -}}
- name: SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ required "slack.existingSecret is required (a Secret with the Slack tokens)" .Values.slack.existingSecret }}
      key: {{ .Values.slack.keys.botToken }}
{{- end }}

{{/* Everything serve needs from Slack: mode, port, bot token, and the app token (socket) or signing secret (http). */}}
{{- define "netdoctor.slackEnv" -}}
{{- $secret := required "slack.existingSecret is required (a Secret with the Slack tokens)" .Values.slack.existingSecret -}}
- name: SLACK_MODE
  value: {{ .Values.slack.mode | quote }}
- name: SLACK_PORT
  value: {{ .Values.slack.port | quote }}
{{ include "netdoctor.slackBotTokenEnv" . }}
{{- if eq .Values.slack.mode "socket" }}
- name: SLACK_APP_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ required "slack.keys.appToken is required in socket mode" .Values.slack.keys.appToken }}
{{- else if eq .Values.slack.mode "http" }}
- name: SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ required "slack.keys.signingSecret is required in http mode" .Values.slack.keys.signingSecret }}
{{- else }}
{{- fail (printf "slack.mode must be socket or http, not %q" (toString .Values.slack.mode)) }}
{{- end }}
{{- with .Values.slack.allowedChannels }}
- name: SLACK_ALLOWED_CHANNELS
  value: {{ join "," . | quote }}
{{- end }}
{{- end }}

{{/* Probes on the admin port. */}}
{{- define "netdoctor.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: admin }
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: { path: /healthz, port: admin }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: admin }
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* Pod-level scheduling fields. */}}
{{- define "netdoctor.scheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Spreads a Deployment's replicas over nodes (preferred pod anti-affinity on the hostname) when it
has more than one and no `affinity` value is set. Args: root, replicas, labels (the pods' own).
*/}}
{{- define "netdoctor.spread" -}}
{{- if and (not .root.Values.affinity) (gt (int .replicas) 1) }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- toYaml .labels | nindent 14 }}
{{- end }}
{{- end }}
