"""What menus and buttons do: the menu bar, file dialogs, the Model menu and its controller."""
