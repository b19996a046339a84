fn main(){ let p = unsafe { libc::getpid() }; println!("{p}"); }
