# Installs nestguard as a Windows service. NOT TESTED: no Windows here.
# nestguard does not speak the Service Control Manager protocol itself, so it
# runs under NSSM (https://nssm.cc), a small service wrapper that restarts it
# if it exits. Run in an elevated PowerShell from the folder holding
# nestguard.exe, nssm.exe and nestguard.toml.
$ErrorActionPreference = "Stop"
$dir = Join-Path $env:ProgramData "nestguard"
New-Item -ItemType Directory -Force -Path $dir | Out-Null
Copy-Item .\nestguard.exe "$dir\nestguard.exe" -Force
if (-not (Test-Path "$dir\nestguard.toml")) { Copy-Item .\nestguard.toml "$dir\nestguard.toml" }
# Only administrators may change the config (a child's account must not).
icacls $dir /inheritance:r /grant:r "Administrators:(OI)(CI)F" "SYSTEM:(OI)(CI)F" | Out-Null
& "$dir\nestguard.exe" check --config "$dir\nestguard.toml"
.\nssm.exe install nestguard "$dir\nestguard.exe" run --config "$dir\nestguard.toml"
.\nssm.exe set nestguard Start SERVICE_AUTO_START
.\nssm.exe set nestguard AppStderr "$dir\nestguard.log"
.\nssm.exe start nestguard
Write-Host "nestguard runs. Point the network adapter's DNS at 127.0.0.1:"
Write-Host "  Set-DnsClientServerAddress -InterfaceAlias Wi-Fi -ServerAddresses 127.0.0.1"
