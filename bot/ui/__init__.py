"""Discord rendering shared by cogs: embeds, views, replies and Discord's size limits."""
