; Inno Setup script for a Windows installer of the PyInstaller bundle.
; NOT BUILT OR TESTED HERE (this machine is Debian); see packaging/README.md, "Windows".
;
;   1. On Windows, in the project's virtualenv:
;        pip install -e ".[package]"
;        pyinstaller --noconfirm --distpath dist packaging\strongroom.spec
;        xcopy /e /i resources\icons dist\strongroom\resources\icons
;   2. Make packaging\windows\strongroom.ico from resources\icons\app.svg (16-256 px).
;   3. iscc /DAppVersion=0.1.0 packaging\windows\strongroom.iss   -> dist\strongroom-setup-0.1.0.exe

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppId "app.strongroom.Strongroom"

[Setup]
AppId={{7E3C5B52-3F0B-4C55-9D0B-5A1B2C3D4E5F}
AppName=Strongroom
AppVersion={#AppVersion}
AppPublisher=The Strongroom developers
DefaultDirName={autopf}\Strongroom
DefaultGroupName=Strongroom
OutputDir=..\..\dist
OutputBaseFilename=strongroom-setup-{#AppVersion}
SetupIconFile=strongroom.ico
UninstallDisplayIcon={app}\strongroom.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
; Tell Explorer to pick up the file associations below.
ChangesAssociations=yes
WizardStyle=modern

[Files]
Source: "..\..\dist\strongroom\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Strongroom"; Filename: "{app}\strongroom.exe"
Name: "{autodesktop}\Strongroom"; Filename: "{app}\strongroom.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked

; Double-click opens: a vault's header file vault.strongroom (extension .strongroom) and
; shares (*.age). Windows hands the path as "%1"; a second launch passes it to the running
; Strongroom over its local socket (a named pipe on Windows) and exits.
[Registry]
Root: HKA; Subkey: "Software\Classes\.strongroom\OpenWithProgids"; ValueType: string; ValueName: "Strongroom.Vault"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Strongroom.Vault"; ValueType: string; ValueName: ""; ValueData: "Strongroom vault"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Strongroom.Vault\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\strongroom.exe,0"
Root: HKA; Subkey: "Software\Classes\Strongroom.Vault\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\strongroom.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.age\OpenWithProgids"; ValueType: string; ValueName: "Strongroom.Share"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Strongroom.Share"; ValueType: string; ValueName: ""; ValueData: "age encrypted file"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Strongroom.Share\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\strongroom.exe,0"
Root: HKA; Subkey: "Software\Classes\Strongroom.Share\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\strongroom.exe"" ""%1"""

[Run]
Filename: "{app}\strongroom.exe"; Description: "{cm:LaunchProgram,Strongroom}"; Flags: nowait postinstall skipifsilent
