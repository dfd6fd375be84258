Console.WriteLine("interop server: not yet");
