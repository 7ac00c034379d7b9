<#
.SYNOPSIS
Install InfinityStar Studio for this user on Windows.

.DESCRIPTION
Makes a copy of the app and its own venv under -Prefix (default: %LOCALAPPDATA%\Programs\InfinityStar Studio),
installs the torch build for this machine (CUDA when an NVIDIA GPU answers nvidia-smi, CPU otherwise) and a
Start-menu shortcut. Re-running updates it (pip only when the dependencies changed). -Uninstall removes what it
created and nothing else: the studio's data folder (%LOCALAPPDATA%\InfinityStarStudio, your projects and models)
is never touched.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File installer\install.ps1
powershell -ExecutionPolicy Bypass -File installer\install.ps1 -Uninstall
#>
param(
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA "Programs\InfinityStar Studio"),
    [switch]$Uninstall
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = Split-Path -Parent $PSScriptRoot
$TorchVersion = "2.13.0"
# PyPI's torch for Windows is the CPU build; the CUDA builds are on PyTorch's own index.
$TorchCudaIndex = "https://download.pytorch.org/whl/cu128"
$AppName = "InfinityStar Studio"
$Prefix = [IO.Path]::GetFullPath($Prefix)
$Venv = Join-Path $Prefix "venv"
$App = Join-Path $Prefix "app"
$Python = Join-Path $Venv "Scripts\python.exe"
$Manifest = Join-Path $Prefix "installed-files.txt"  # what this script created: "kind<TAB>path", in order
$Shortcut = Join-Path ([Environment]::GetFolderPath("Programs")) "$AppName.lnk"

function Say([string]$Text) { Write-Host "[install] $Text" }

function Invoke-Native([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# The output of a command we only ask, $null when it fails. PowerShell 5.1 would turn any line it writes to stderr
# into a terminating error under "Stop".
function Get-NativeOutput([string]$Exe, [string[]]$Arguments) {
    $ErrorActionPreference = "Continue"
    $out = & $Exe @Arguments 2>$null
    if ($LASTEXITCODE -ne 0) { return $null }
    return $out
}

function Add-Record([string]$Kind, [string]$Path) {
    $line = "$Kind`t$Path"
    if (-not (Test-Path $Manifest) -or -not ((Get-Content $Manifest) -contains $line)) {
        Add-Content -Path $Manifest -Value $line -Encoding UTF8
    }
}

# New-Item -Force that records each folder it creates, parents first, so -Uninstall removes them once empty.
function New-RecordedFolder([string]$Path) {
    $missing = @()
    $dir = $Path
    while (-not (Test-Path $dir)) {
        $missing = @($dir) + $missing
        $dir = Split-Path -Parent $dir
    }
    New-Item -ItemType Directory -Force -Path $Path | Out-Null
    foreach ($m in $missing) { Add-Record "dir" $m }
}

function Find-Python {
    foreach ($candidate in @("py -3.13", "py -3.12", "py -3.11", "python")) {
        $exe, $rest = $candidate.Split(" ")
        if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { continue }
        $check = "import sys; print(sys.executable if sys.version_info >= (3, 11) else '')"
        $found = Get-NativeOutput $exe (@($rest | Where-Object { $_ }) + @("-c", $check))
        if ($found) { return "$found".Trim() }
    }
    throw "Python >= 3.11 not found (tried py -3.13/-3.12/-3.11 and python); install it from python.org and re-run"
}

function Get-TorchVariant {
    $smi = Get-Command nvidia-smi -ErrorAction SilentlyContinue
    if ($smi -and $null -ne (Get-NativeOutput $smi.Source @())) { return "cuda" }
    return "cpu"
}

function Get-WantedStamp([string]$Variant) {
    $text = (Get-Content -Raw (Join-Path $App "pyproject.toml")) + "torch=$TorchVersion variant=$Variant"
    $hash = [Security.Cryptography.SHA256]::Create().ComputeHash([Text.Encoding]::UTF8.GetBytes($text))
    return ([BitConverter]::ToString($hash) -replace "-", "").ToLower()
}

function Test-SystemLibraries {
    # torch needs the Visual C++ runtime; PortAudio and Qt come inside their wheels.
    $system = Join-Path $env:SystemRoot "System32"
    $missing = @("msvcp140.dll", "vcruntime140.dll", "vcruntime140_1.dll") |
        Where-Object { -not (Test-Path (Join-Path $system $_)) }
    if ($missing) {
        Say "missing $($missing -join ', '): install the Microsoft Visual C++ Redistributable (x64),"
        Say "  https://aka.ms/vs/17/release/vc_redist.x64.exe, then start the studio"
    } else {
        Say "system libraries present"
    }
}

function Copy-App {
    Say "copying the app to $App"
    Add-Record "tree" $App
    if (Test-Path $App) { Remove-Item -Recurse -Force $App }
    New-Item -ItemType Directory -Path $App | Out-Null
    foreach ($item in @("engine", "desktop", "resources", "pyproject.toml", "README.md")) {
        Copy-Item -Recurse -Path (Join-Path $Root $item) -Destination $App
    }
    Get-ChildItem -Path $App -Recurse -Directory -Filter "__pycache__" | Remove-Item -Recurse -Force
}

function Install-PythonEnv {
    $variant = Get-TorchVariant
    $wanted = Get-WantedStamp $variant
    $stamp = Join-Path $Venv ".istar-install-stamp"
    if ((Test-Path $Python) -and (Test-Path $stamp) -and ((Get-Content $stamp) -eq $wanted)) {
        Say "Python environment up to date (torch $TorchVersion, $variant build), skipping pip"
        return
    }
    Add-Record "tree" $Venv
    if (-not (Test-Path $Python)) {
        $base = Find-Python
        Say "creating $Venv with $base"
        Invoke-Native $base @("-m", "venv", $Venv)
        Invoke-Native $Python @("-m", "pip", "install", "-q", "--upgrade", "pip")
    }
    $installed = Get-NativeOutput $Python @("-c", "import importlib.metadata as m; print(m.version('torch'))")
    # A torch of the right version but the wrong build still satisfies "torch==X", so pip would keep it.
    if ($installed -and (($variant -eq "cuda") -ne ("$installed" -match "\+cu"))) {
        Say "removing torch $installed (wrong build for this machine)"
        Invoke-Native $Python @("-m", "pip", "uninstall", "-q", "-y", "torch")
    }
    $index = if ($variant -eq "cuda") { @("--index-url", $TorchCudaIndex) } else { @() }
    Say "installing torch $TorchVersion ($variant build); can take minutes"
    Invoke-Native $Python (@("-m", "pip", "install", "-q") + $index + @("torch==$TorchVersion"))
    # Development mode: the package runs from $App, where the built-in model in resources\ sits beside it.
    Say "installing infinitystar-studio into $Venv"
    Invoke-Native $Python @("-m", "pip", "install", "-q", "-e", $App)
    Set-Content -Path $stamp -Value $wanted -Encoding ASCII
}

function New-StartMenuShortcut {
    $shell = New-Object -ComObject WScript.Shell
    $link = $shell.CreateShortcut($Shortcut)
    $link.TargetPath = Join-Path $Venv "Scripts\pythonw.exe"  # no console window
    $link.Arguments = "-m desktop.app"
    $link.WorkingDirectory = $App
    $link.Description = "Generate video with a local InfinityStar model and edit it on a timeline"
    $link.Save()
    Add-Record "file" $Shortcut
    Say "Start-menu shortcut: $Shortcut"
}

function Get-StudioHome {
    if (-not (Test-Path $Python)) { return "" }
    return Get-NativeOutput $Python @("-c", "from engine.home import studio_home; print(studio_home())")
}

function Install-Studio {
    Test-SystemLibraries
    New-RecordedFolder $Prefix
    Copy-App
    Install-PythonEnv
    Invoke-Native (Join-Path $Venv "Scripts\istar-studio.exe") @("--version")
    New-StartMenuShortcut
    Say "installed in $Prefix; start it from the Start menu, or: $Venv\Scripts\istar-studio.exe"
    Say "check it: $Venv\Scripts\istar-studio.exe --self-check"
    Say "your projects and models live in $(Get-StudioHome); -Uninstall never removes them"
}

function Uninstall-Studio {
    if (-not (Test-Path $Manifest)) {
        Say "nothing installed at $Prefix"
        return
    }
    $studioHome = Get-StudioHome
    $entries = @(Get-Content $Manifest)
    [Array]::Reverse($entries)  # last created first, so each folder is empty by its turn
    Remove-Item -Force $Manifest
    foreach ($entry in $entries) {
        $kind, $path = $entry.Split("`t", 2)
        if (-not (Test-Path $path)) { continue }
        if ($kind -eq "dir") {
            if (Get-ChildItem -Force $path) { Say "kept ${path}: it holds files this installer did not put there" }
            else { Remove-Item -Force $path }
        } else {
            Remove-Item -Recurse -Force $path
        }
    }
    Say "removed $AppName from $Prefix"
    if ($studioHome) { Say "your projects and models in $studioHome are kept" }
}

if ($Uninstall) { Uninstall-Studio } else { Install-Studio }
