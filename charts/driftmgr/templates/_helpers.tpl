{{- define "driftmgr.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "driftmgr.labels" -}}
app.kubernetes.io/name: driftmgr
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "driftmgr.selector" -}}
app.kubernetes.io/name: driftmgr
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
