#!/bin/sh
# Add Transformers Workbench to the desktop's application menu (this user only): writes
# ~/.local/share/applications/transformers-workbench.desktop pointing at this unpacked folder, and the icon.
# Run it again after moving the folder; remove those two files to undo.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/256x256/apps"
cp "$here/share/transformers-workbench.png" "$data/icons/hicolor/256x256/apps/transformers-workbench.png"
escaped=$(printf '%s' "$here/transformers-workbench" | sed 's/[\\"`$]/\\&/g')
sed "s|^Exec=.*|Exec=\"$escaped\"|" "$here/share/transformers-workbench.desktop" > "$data/applications/transformers-workbench.desktop"
echo "Installed $data/applications/transformers-workbench.desktop (runs $here/transformers-workbench)"
